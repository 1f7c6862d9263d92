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
import { withClient, withTransaction } from './transaction.js'
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
  await withTransaction(client, async () => {
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
  })
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

/** Runs one DDL statement in a transaction of its own that gives up after DDL_LOCK_TIMEOUT of waiting. */
async function ddlWithLockTimeout(client: DbClient, sql: string): Promise<void> {
  await withTransaction(client, async () => {
    await client.query(`SET LOCAL lock_timeout = '${DDL_LOCK_TIMEOUT}'`)
    await client.query(sql)
  })
}

/** DETACH PARTITION … CONCURRENTLY and … FINALIZE exist from PostgreSQL 14. */
async function detachesConcurrently(db: Queryable): Promise<boolean> {
  const { rows } = await db.query<{ v: number }>(`SELECT current_setting('server_version_num')::int AS v`)
  return (rows[0]?.v ?? 0) >= 140_000
}

/** Partitions of `table` left "detach pending" by a DETACH … CONCURRENTLY that was interrupted. */
async function pendingDetaches(db: Queryable, table: PartitionedTable): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = $1::regclass AND i.inhdetachpending`,
    [table],
  )
  return rows.map((r) => r.name)
}

/** Month tables of `table` that are no longer attached: detached by a run that stopped before the drop. */
async function detachedMonths(db: Queryable, table: PartitionedTable): Promise<MonthPartition[]> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c
     WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r' AND NOT c.relispartition
       AND starts_with(c.relname, $1 || '_')`,
    [table],
  )
  return rows
    .map((r) => parsePartitionName(table, r.name))
    .filter((p): p is MonthPartition => p !== null)
    .sort((a, b) => a.from.getTime() - b.from.getTime())
}

/**
 * Drops the month partitions (history and hourly) that end on or before the retention cutoff, and the
 * fleet rollup rows before it. Returns the dropped table names.
 *
 * A month is first detached with `DETACH PARTITION … CONCURRENTLY` (PostgreSQL 14+): it takes only
 * SHARE UPDATE EXCLUSIVE on the parent, which no writer's or reader's lock conflicts with, then waits
 * for the transactions in flight on the parent to end while new ones carry on. Only then is the
 * detached table dropped, which locks nothing any writer touches. (Dropping an attached partition
 * takes ACCESS EXCLUSIVE on the parent: every writer queues behind it.) That statement cannot run in
 * a transaction block, so each step is a statement of its own, and a run interrupted anywhere is
 * finished by the next: a partition left "detach pending" (the wait was cancelled, the connection
 * lost) is completed with `DETACH PARTITION … FINALIZE`, and an expired month table that is no longer
 * attached is dropped. One run at a time across processes (a session advisory lock; a second run
 * skips). Must be called outside a transaction. On PostgreSQL 12–13 a month is detached with a plain
 * DETACH under a short lock_timeout instead.
 */
export async function dropExpired(
  client: DbClient,
  opts: { retentionMonths: number; now?: Date },
): Promise<string[]> {
  const cutoff = retentionCutoff(opts.now ?? new Date(), opts.retentionMonths)
  const expired = (p: MonthPartition) => p.to.getTime() <= cutoff.getTime()
  const lock = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [
    LOCK_NAMESPACE,
    LOCKS.retention,
  ])
  if (!lock.rows[0]?.ok) return []
  try {
    const concurrently = await detachesConcurrently(client)
    const dropped: string[] = []
    for (const table of Object.keys(PARTITIONED_TABLES) as PartitionedTable[]) {
      if (concurrently) {
        // A detach once started is meant to finish; at most one per table can be pending.
        for (const name of await pendingDetaches(client, table)) {
          await client.query(`ALTER TABLE ${table} DETACH PARTITION ${name} FINALIZE`)
        }
      }
      for (const p of (await listPartitions(client, table)).filter(expired)) {
        if (concurrently) await client.query(`ALTER TABLE ${table} DETACH PARTITION ${p.name} CONCURRENTLY`)
        else await ddlWithLockTimeout(client, `ALTER TABLE ${table} DETACH PARTITION ${p.name}`)
      }
      for (const p of (await detachedMonths(client, table)).filter(expired)) {
        await ddlWithLockTimeout(client, `DROP TABLE IF EXISTS ${p.name}`)
        dropped.push(p.name)
      }
    }
    await client.query('DELETE FROM meter_fleet_minutely WHERE minute < $1', [cutoff])
    await client.query('DELETE FROM vehicle_fleet_minutely WHERE minute < $1', [cutoff])
    await client.query('DELETE FROM meter_fleet_hourly WHERE hour < $1', [cutoff])
    await client.query('DELETE FROM vehicle_fleet_hourly WHERE hour < $1', [cutoff])
    return dropped
  } finally {
    await client.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_NAMESPACE, LOCKS.retention]).catch(() => {})
  }
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
    const { created, dropped } = await withClient({ connect: this.opts.connect }, async (client) => ({
      created: await ensureMonths(client, ['meter', 'vehicle'], [monthStart(now), monthStart(now, 1)]),
      dropped: await dropExpired(client, { retentionMonths: this.opts.retentionMonths, now }),
    }))
    if (created.length > 0 || dropped.length > 0)
      this.opts.log?.('info', 'partitions maintained', { created, dropped })
    return { created, dropped }
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
