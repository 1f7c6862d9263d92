#!/usr/bin/env node
// Writes the secrets docker-compose.yml requires into an env file (default .env beside it, which
// compose reads by itself), each a fresh random value, file mode 0600. An existing file is kept (its
// values are the ones the volumes were initialised with); variables it lacks are appended.
//   node scripts/compose-env.mjs [file]
// Values are hex, so they are safe inside the database URLs compose builds from them.
import { randomBytes } from 'node:crypto'
import { appendFileSync, chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
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
    GRAFANA_ADMIN_PASSWORD: hex(16),
  }
}

/**
 * Writes `file` (0600) with `values`; when it exists, appends only the variables it lacks. Returns the
 * names written.
 */
export function writeComposeEnv(file, values = composeSecrets()) {
  const present = existsSync(file)
    ? new Set(readFileSync(file, 'utf8').match(/^[A-Z0-9_]+(?==)/gm) ?? [])
    : new Set()
  const missing = Object.entries(values).filter(([k]) => !present.has(k))
  if (missing.length === 0) return []
  const body = missing.map(([k, v]) => `${k}=${v}`).join('\n')
  const header = `# docker compose secrets, generated ${new Date().toISOString()}`
  if (!existsSync(file)) {
    writeFileSync(file, `${header}\n${body}\n`, { mode: 0o600, flag: 'wx' })
  } else {
    const text = readFileSync(file, 'utf8')
    appendFileSync(file, `${text.endsWith('\n') || text === '' ? '' : '\n'}${header}\n${body}\n`)
  }
  chmodSync(file, 0o600)
  return missing.map(([k]) => k)
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const file = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..', '.env'))
  const written = writeComposeEnv(file)
  if (written.length > 0) console.error(`wrote ${file} (0600): ${written.join(', ')}`)
  else console.error(`${file} has every variable: kept as it is`)
}
