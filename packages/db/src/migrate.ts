import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { LOCK_NAMESPACE, LOCKS } from './locks.js'
import { ensureMonths } from './partitions.js'
import { withTransaction } from './transaction.js'

/** The SQL files, next to src/ and dist/ alike. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations/', import.meta.url))

const FILE_PATTERN = /^(\d{4})_([a-z0-9_]+)\.sql$/
/** A first line `-- migrate:no-transaction` runs the file outside a transaction (CREATE INDEX CONCURRENTLY). */
const NO_TRANSACTION = /^--\s*migrate:no-transaction/

export interface Migration {
  version: string
  name: string
  sql: string
  checksum: string
}

export interface MigrateOptions {
  connectionString: string
  log?: (message: string, fields?: Record<string, unknown>) => void
  /** Defaults to the package's migrations folder. */
  dir?: string
  /** Also create the current and next months' partitions (idempotent). Default true. */
  ensurePartitions?: boolean
  /** The clock "current month" is read from (default: the system clock); tests pin it. */
  now?: Date
  /** Give up connecting after this long (default 10 s; 0: never). */
  connectTimeoutMs?: number
}

/** Reads `NNNN_name.sql` files in version order; refuses duplicate versions. */
export async function loadMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort()
  const migrations: Migration[] = []
  for (const file of files) {
    const m = FILE_PATTERN.exec(file)
    if (!m) throw new Error(`migration file name must look like 0001_name.sql: ${file}`)
    const sql = await readFile(`${dir}/${file}`, 'utf8')
    const checksum = createHash('sha256').update(sql).digest('hex')
    if (migrations.some((x) => x.version === m[1])) throw new Error(`duplicate migration version ${m[1]}`)
    migrations.push({ version: m[1]!, name: m[2]!, sql, checksum })
  }
  return migrations
}

const CREATE_TABLE = `
  CREATE TABLE IF NOT EXISTS schema_migrations (
    version text PRIMARY KEY,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`

/** Applies the migrations not in schema_migrations yet; refuses one edited since it was applied. */
async function applyPending(
  client: pg.Client,
  migrations: Migration[],
  log: NonNullable<MigrateOptions['log']>,
): Promise<string[]> {
  await client.query(CREATE_TABLE)
  const { rows } = await client.query<{ version: string; checksum: string }>(
    'SELECT version, checksum FROM schema_migrations',
  )
  const done = new Map(rows.map((r) => [r.version, r.checksum]))
  const applied: string[] = []
  for (const migration of migrations) {
    const label = `${migration.version}_${migration.name}`
    const previous = done.get(migration.version)
    if (previous !== undefined) {
      if (previous !== migration.checksum) {
        throw new Error(`migration ${label} was edited after it was applied (checksum differs)`)
      }
      continue
    }
    const started = Date.now()
    await applyOne(client, migration, label)
    applied.push(label)
    log('migration applied', { migration: label, ms: Date.now() - started })
  }
  return applied
}

/** Runs one migration and records it, in a transaction unless the file opts out of one. */
async function applyOne(client: pg.Client, migration: Migration, label: string): Promise<void> {
  const inTransaction = !NO_TRANSACTION.test(migration.sql)
  const apply = async () => {
    await client.query(migration.sql)
    await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
      migration.version,
      migration.name,
      migration.checksum,
    ])
  }
  try {
    await (inTransaction ? withTransaction(client, apply) : apply())
  } catch (err) {
    throw new Error(`migration ${label} failed: ${(err as Error).message}`, { cause: err })
  }
}

/**
 * Applies pending migrations in order, each in its own transaction, under a session advisory lock so
 * that services starting at once apply each migration exactly once. Refuses an edited migration.
 */
export async function migrate(options: MigrateOptions): Promise<{ applied: string[] }> {
  const log = options.log ?? (() => {})
  const migrations = await loadMigrations(options.dir)
  const client = new pg.Client({
    connectionString: options.connectionString,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    keepAlive: true,
  })
  // A connection lost between statements is emitted here (unhandled, it would crash the process); the
  // statement in flight or the next one fails with it and migrate() rejects.
  client.on('error', (err) => log('migration connection lost', { err }))
  await client.connect()
  let applied: string[]
  try {
    await client.query('SELECT pg_advisory_lock($1, $2)', [LOCK_NAMESPACE, LOCKS.migrations])
    try {
      applied = await applyPending(client, migrations, log)
      if (options.ensurePartitions !== false) {
        const now = options.now ?? new Date()
        await ensureMonths(
          client,
          ['meter', 'vehicle'],
          [now, new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1))],
        )
      }
    } finally {
      await client
        .query('SELECT pg_advisory_unlock($1, $2)', [LOCK_NAMESPACE, LOCKS.migrations])
        .catch(() => {})
    }
  } finally {
    await client.end()
  }
  return { applied }
}
