import { LOCK_NAMESPACE, LOCKS } from './locks.js'
import {
  PARTITIONED_TABLES,
  monthStart,
  parsePartitionName,
  partitionFor,
  retentionCutoff,
  type MonthPartition,
  type PartitionedTable,
} from './partition-names.js'
import type { DbClient, Queryable, ReadingKind } from './types.js'

/** Partitioned tables that hold each kind's rows; a month must exist in all of them before a write. */
export const TABLES_OF_KIND: Record<ReadingKind, PartitionedTable[]> = {
  meter: ['meter_history', 'meter_hourly'],
  vehicle: ['vehicle_history', 'vehicle_hourly'],
}

/** Storage options per partition (not inheritable from a partitioned parent). */
const PARTITION_OPTIONS: Partial<Record<PartitionedTable, string>> = {
  // Rollup rows are updated in place when late rows are folded: leave room for HOT updates.
  meter_hourly: 'WITH (fillfactor = 70)',
  vehicle_hourly: 'WITH (fillfactor = 70)',
}

const DDL_LOCK_TIMEOUT = '10s'

// A pg_class scan (not to_regclass, whose catalog cache may predate the advisory lock) so that a
// partition another process committed while we waited for the lock is seen.
const MISSING = `
  SELECT name FROM unnest($1::text[]) AS name
  WHERE NOT EXISTS (
    SELECT 1 FROM pg_class c WHERE c.relname = name AND c.relnamespace = current_schema()::regnamespace)`

const iso = (d: Date) => d.toISOString()

/**
 * Makes sure the month partitions holding `dates` exist for each kind's tables, creating the missing
 * ones under an advisory lock (CREATE + ATTACH, which locks the parent only in SHARE UPDATE EXCLUSIVE
 * mode, so writers and readers carry on). Must be called outside a transaction: it commits its own.
 * Returns the names it created.
 */
export async function ensureMonths(client: DbClient, kinds: ReadingKind[], dates: Date[]): Promise<string[]> {
  const wanted = new Map<string, MonthPartition>()
  for (const kind of kinds) {
    for (const table of TABLES_OF_KIND[kind]) {
      for (const date of dates) {
        const p = partitionFor(table, date)
        wanted.set(p.name, p)
      }
    }
  }
  if (wanted.size === 0) return []
  const missing = await client.query<{ name: string }>(MISSING, [[...wanted.keys()]])
  if (missing.rows.length === 0) return []
  const created: string[] = []
  await client.query('BEGIN')
  try {
    await client.query(`SET LOCAL lock_timeout = '${DDL_LOCK_TIMEOUT}'`)
    await client.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_NAMESPACE, LOCKS.partitions])
    // Another process may have created them while we waited for the lock.
    const still = await client.query<{ name: string }>(MISSING, [missing.rows.map((r) => r.name)])
    for (const { name } of still.rows) {
      const p = wanted.get(name)!
      const options = PARTITION_OPTIONS[p.parent as PartitionedTable] ?? ''
      await client.query(
        `CREATE TABLE ${p.name} (LIKE ${p.parent} INCLUDING DEFAULTS INCLUDING CONSTRAINTS) ${options}`,
      )
      await client.query(
        `ALTER TABLE ${p.parent} ATTACH PARTITION ${p.name} FOR VALUES FROM ('${iso(p.from)}') TO ('${iso(p.to)}')`,
      )
      created.push(p.name)
    }
    await client.query('COMMIT')
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {})
    throw err
  }
  return created
}

/** The month partitions attached to `table`, oldest first (names that are not ours are left out). */
export async function listPartitions(db: Queryable, table: PartitionedTable): Promise<MonthPartition[]> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = $1::regclass`,
    [table],
  )
  return rows
    .map((r) => parsePartitionName(table, r.name))
    .filter((p): p is MonthPartition => p !== null)
    .sort((a, b) => a.from.getTime() - b.from.getTime())
}

/**
 * Drops the month partitions (history and hourly) that end on or before the retention cutoff, and the
 * fleet rollup rows before it. Returns the dropped partition names.
 */
export async function dropExpired(
  client: DbClient,
  opts: { retentionMonths: number; now?: Date },
): Promise<string[]> {
  const cutoff = retentionCutoff(opts.now ?? new Date(), opts.retentionMonths)
  const dropped: string[] = []
  for (const table of Object.keys(PARTITIONED_TABLES) as PartitionedTable[]) {
    for (const p of await listPartitions(client, table)) {
      if (p.to.getTime() > cutoff.getTime()) continue
      await client.query('BEGIN')
      try {
        await client.query(`SET LOCAL lock_timeout = '${DDL_LOCK_TIMEOUT}'`)
        await client.query(`DROP TABLE IF EXISTS ${p.name}`)
        await client.query('COMMIT')
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {})
        throw err
      }
      dropped.push(p.name)
    }
  }
  await client.query('DELETE FROM meter_fleet_minutely WHERE minute < $1', [cutoff])
  await client.query('DELETE FROM vehicle_fleet_minutely WHERE minute < $1', [cutoff])
  return dropped
}

export interface PartitionManagerOptions {
  /** Returns a client not in a transaction; `release` is called when done (a Pool's connect()). */
  connect: () => Promise<DbClient & { release: (err?: Error | boolean) => void }>
  retentionMonths: number
  intervalMs?: number
  now?: () => Date
  log?: (level: 'info' | 'error', message: string, fields?: Record<string, unknown>) => void
}

/** Creates the current and next months at start and on a timer, and drops expired months. */
export class PartitionManager {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined

  constructor(private readonly opts: PartitionManagerOptions) {}

  /** One maintenance pass. Safe to call concurrently from several processes. */
  async tick(): Promise<{ created: string[]; dropped: string[] }> {
    const now = this.opts.now?.() ?? new Date()
    const client = await this.opts.connect()
    try {
      const created = await ensureMonths(client, ['meter', 'vehicle'], [monthStart(now), monthStart(now, 1)])
      const dropped = await dropExpired(client, { retentionMonths: this.opts.retentionMonths, now })
      if (created.length > 0 || dropped.length > 0)
        this.opts.log?.('info', 'partitions maintained', { created, dropped })
      client.release()
      return { created, dropped }
    } catch (err) {
      client.release(err as Error)
      throw err
    }
  }

  async start(): Promise<void> {
    await this.tick()
    this.timer = setInterval(() => {
      if (this.running) return
      this.running = this.tick()
        .then(() => undefined)
        .catch((err: unknown) => this.opts.log?.('error', 'partition maintenance failed', { err }))
        .finally(() => {
          this.running = undefined
        })
    }, this.opts.intervalMs ?? 3_600_000)
    this.timer.unref()
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    await this.running
  }
}
