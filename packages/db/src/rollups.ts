import { LOCK_NAMESPACE, LOCKS } from './locks.js'
import { ensureMonths } from './partitions.js'
import { METER } from './queries/meter.js'
import { VEHICLE } from './queries/vehicle.js'
import { withTransaction } from './transaction.js'
import type { DbClient, Queryable, ReadingKind } from './types.js'

const HOUR_MS = 3_600_000
const SPECS = { meter: METER, vehicle: VEHICLE } as const
const ROLLUP_LOCK = { meter: LOCKS.meterRollup, vehicle: LOCKS.vehicleRollup } as const
const CLOSER_LOCK = { meter: LOCKS.meterCloser, vehicle: LOCKS.vehicleCloser } as const

const READ_WATERMARK = `SELECT closed_before, closed_before = 'infinity' AS open_ended
  FROM rollup_watermarks WHERE kind = $1`

/** The instant before which *_hourly is complete for `kind`; null when every hour is (per-batch mode). */
export async function readWatermark(db: Queryable, kind: ReadingKind): Promise<Date | null> {
  const { rows } = await db.query<{ closed_before: Date; open_ended: boolean }>(READ_WATERMARK, [kind])
  const row = rows[0]
  if (!row) throw new Error(`rollup_watermarks has no row for ${kind}`)
  return row.open_ended ? null : row.closed_before
}

export interface CloseHoursOptions {
  now?: Date
  /** Hours close this long after they end, so that most late rows are already in. Default 5 min. */
  graceMs?: number
  /** At most this many hours per call (bounds how long writers wait). Default 24. */
  maxHours?: number
  /** Give up (and try again later) when writers hold the rollup lock longer than this. Default 5 s. */
  lockTimeoutMs?: number
  /** Close every hour up to here instead of now - grace (tests, mode switches). */
  upTo?: Date
}

export interface CloseHoursResult {
  closedBefore: Date | null
  hoursClosed: number
  /** Hourly rows written. */
  rows: number
}

/**
 * Materialises the hourly rollups of the hours that have closed, from history, and moves the watermark
 * past them, in one transaction holding the kind's rollup lock exclusively: writers in flight finish
 * first, and later writers see the new watermark and fold their late rows themselves. A no-op when
 * another process is already closing hours, or in per-batch mode.
 */
export async function closeHours(
  client: DbClient,
  kind: ReadingKind,
  opts: CloseHoursOptions = {},
): Promise<CloseHoursResult> {
  const current = await readWatermark(client, kind)
  if (current === null) return { closedBefore: null, hoursClosed: 0, rows: 0 }
  const now = opts.now ?? new Date()
  const limit = opts.upTo ?? new Date(now.getTime() - (opts.graceMs ?? 300_000))
  const target = new Date(
    Math.min(
      Math.floor(limit.getTime() / HOUR_MS) * HOUR_MS,
      current.getTime() + (opts.maxHours ?? 24) * HOUR_MS,
    ),
  )
  if (target.getTime() <= current.getTime()) return { closedBefore: current, hoursClosed: 0, rows: 0 }
  await ensureMonths(client, [kind], monthsBetween(current, target))

  return withTransaction(client, async () => {
    const free = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1, $2) AS ok', [
      LOCK_NAMESPACE,
      CLOSER_LOCK[kind],
    ])
    if (!free.rows[0]?.ok) return { closedBefore: current, hoursClosed: 0, rows: 0 }
    await client.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.round(opts.lockTimeoutMs ?? 5000))}`)
    await client.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_NAMESPACE, ROLLUP_LOCK[kind]])
    // Read again under the lock: this statement's snapshot now includes every writer that held it.
    const { rows } = await client.query<{ closed_before: Date; open_ended: boolean }>(
      `${READ_WATERMARK} FOR UPDATE`,
      [kind],
    )
    const from = rows[0]!
    // Nothing to do: the transaction commits having changed nothing.
    if (from.open_ended || from.closed_before.getTime() >= target.getTime())
      return { closedBefore: from.open_ended ? null : from.closed_before, hoursClosed: 0, rows: 0 }
    // Recompute (not add): correct whatever partial rows a mode switch left in these hours.
    const written = await client.query(SPECS[kind].materializeHourly, [from.closed_before, target])
    await client.query(
      'UPDATE rollup_watermarks SET closed_before = $2, updated_at = now() WHERE kind = $1',
      [kind, target],
    )
    return {
      closedBefore: target,
      hoursClosed: (target.getTime() - from.closed_before.getTime()) / HOUR_MS,
      rows: written.rowCount ?? 0,
    }
  })
}

/**
 * Switches `kind` to per-batch folding (every write folds its rows into *_hourly; watermark infinity)
 * or back to closed-hour materialisation with the watermark at `closedBefore` (an hour start).
 */
export async function setRollupMode(
  client: DbClient,
  kind: ReadingKind,
  mode: { perBatch: true } | { perBatch: false; closedBefore: Date },
): Promise<void> {
  await withTransaction(client, async () => {
    await client.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_NAMESPACE, ROLLUP_LOCK[kind]])
    const { rows } = await client.query<{ closed_before: Date; open_ended: boolean }>(
      `${READ_WATERMARK} FOR UPDATE`,
      [kind],
    )
    const current = rows[0]!
    if (mode.perBatch) {
      if (!current.open_ended) {
        // Hours from the watermark on were never folded: materialise all of them first.
        await client.query(SPECS[kind].materializeHourly, [current.closed_before, 'infinity'])
      }
      await client.query(
        `UPDATE rollup_watermarks SET closed_before = 'infinity', updated_at = now() WHERE kind = $1`,
        [kind],
      )
    } else {
      if (mode.closedBefore.getTime() % HOUR_MS !== 0)
        throw new RangeError('closedBefore must be an hour start')
      await client.query(
        'UPDATE rollup_watermarks SET closed_before = $2, updated_at = now() WHERE kind = $1',
        [kind, mode.closedBefore],
      )
    }
  })
}

function monthsBetween(from: Date, to: Date): Date[] {
  const months: Date[] = []
  let d = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), 1))
  while (d.getTime() < to.getTime()) {
    months.push(d)
    d = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1))
  }
  return months
}
