#!/usr/bin/env node
// Writes the secrets docker-compose.yml requires into an env file (default .env beside it, which
// compose reads by itself), each a fresh random value, file mode 0600. An existing file is kept:
// its values are the ones the volumes were initialised with.
//   node scripts/compose-env.mjs [file]
// Values are hex, so they are safe inside the database URLs compose builds from them.
import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The variables docker-compose.yml requires, with fresh random values. */
export function composeSecrets() {
  const hex = (bytes) => randomBytes(bytes).toString('hex')
  return {
    REPLICATION_PASSWORD: hex(16),
    WRITER_DB_PASSWORD: hex(16),
    ANALYTICS_DB_PASSWORD: hex(16),
    INGEST_TOKEN_SECRET: hex(32),
    INGEST_FLEET_TOKENS: hex(24),
    ANALYTICS_API_KEYS: hex(24),
  }
}

/** Writes `file` (0600) unless it exists; returns whether it wrote it. */
export function writeComposeEnv(file, values = composeSecrets()) {
  if (existsSync(file)) return false
  const body = Object.entries(values)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n')
  writeFileSync(file, `# docker compose secrets, generated ${new Date().toISOString()}\n${body}\n`, {
    mode: 0o600,
    flag: 'wx',
  })
  chmodSync(file, 0o600)
  return true
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const file = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..', '.env'))
  if (writeComposeEnv(file))
    console.error(`wrote ${file} (0600): ${Object.keys(composeSecrets()).join(', ')}`)
  else console.error(`${file} exists: kept as it is`)
}
