import { fleetSums, planBatch, type BatchPlan, type InsertMode } from './batch-plan.js'
import { copyRows } from './copy-stream.js'
import { LOCK_NAMESPACE, LOCKS } from './locks.js'
import { ensureMonths } from './partitions.js'
import { SQLSTATE, sqlStateOf } from './pg-errors.js'
import type { KindSpec } from './queries/kind-spec.js'
import { METER } from './queries/meter.js'
import { lockRegisterMeters, registerPass } from './register-pass.js'
import { withTransaction } from './transaction.js'
import { VEHICLE } from './queries/vehicle.js'
import type { DbClient, MeterRow, ReadingKind, VehicleRow } from './types.js'
import type pg from 'pg'

export interface WriteOptions {
  /** Fleet rollup shard: the Kafka partition the rows came from (one writer per shard). Default 0. */
  shard?: number
  /**
   * Rows of several shards in one transaction: the shard of each run of rows, in order (their counts
   * add up to the rows; `shard` is then ignored). Only a batch whose rows are all new and that holds
   * no register reading is written this way; any other throws GroupNotWritableError, having written
   * nothing, and is written one shard at a time instead.
   */
  parts?: { shard: number; rows: number }[]
  /** Power ceiling of the register `suspect` rule, kW (register-energy.ts). Default 400. */
  maxPowerKw?: number
}

/**
 * Knobs for benchmarks and tests only (reached through `@energy-ingest/db/internal`).
 * `insertMode` — `auto` (what the writer uses): `insert` when the batch holds about one row per
 * device, else `copy`. `copy`: COPY straight into history inside a savepoint; on a unique violation (a
 * redelivery, a duplicate inside the batch) roll back to the savepoint and take the `on-conflict` path.
 * `insert`: COPY into the session temp table, then a plain INSERT … SELECT into history in a savepoint,
 * `on-conflict` on a unique violation. `on-conflict`: temp table, then INSERT … ON CONFLICT DO NOTHING.
 * `timings` is filled with milliseconds per phase.
 */
export interface WriteTuning {
  insertMode?: InsertMode
  timings?: Partial<Record<WritePhase, number>>
}

export type WritePhase =
  'partitions' | 'copy' | 'insert' | 'fleet' | 'hourly' | 'live' | 'register' | 'commit'

export interface WriteResult {
  rows: number
  /** Rows new to history; the rest were already stored (redelivery or duplicates in the batch). */
  inserted: number
  duplicates: number
  /** Hourly rows touched by inserted rows older than the rollup watermark (folded in this transaction). */
  lateHourRows: number
  /** optimistic: every row was new (one COPY or plain insert); on-conflict: the ON CONFLICT path ran. */
  path: 'optimistic' | 'on-conflict'
  partitionsCreated: string[]
  /** Register rows (inserted or stored neighbours) whose derived energy or flags this batch changed. */
  registerChanged: number
}

/** A batch of several shards (WriteOptions.parts) that needs a path written one shard at a time. */
export class GroupNotWritableError extends Error {
  readonly code = 'DB_GROUP_NOT_WRITABLE'
  constructor(reason: string) {
    super(`rows of several shards cannot be written together: ${reason}`)
    this.name = 'GroupNotWritableError'
  }
}

/** The shard of each row: one for all, or from the runs of WriteOptions.parts. */
function shardsOf(rows: number, opts: WriteOptions): { grouped: boolean; shardOf: (row: number) => number } {
  const parts = opts.parts
  if (!parts || parts.length === 0) {
    const shard = opts.shard ?? 0
    return { grouped: false, shardOf: () => shard }
  }
  const shards = new Int32Array(rows)
  let at = 0
  for (const { shard, rows: n } of parts) shards.fill(shard, at, (at += n))
  if (at !== rows) throw new RangeError(`parts count ${at} rows, the batch has ${rows}`)
  return { grouped: parts.length > 1, shardOf: (row) => shards[row]! }
}

const ROLLUP_LOCK: Record<ReadingKind, number> = { meter: LOCKS.meterRollup, vehicle: LOCKS.vehicleRollup }

// The watermark's hour as 'YYYY-MM-DDTHH' (UTC), comparable with an hour prefix; NULL for infinity.
// And the live table's size as the planner knows it (autovacuum's estimate; -1 before its first).
const WATERMARK = `
  SELECT CASE WHEN closed_before <> 'infinity'
    THEN to_char(closed_before AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24') END AS hour,
    (SELECT reltuples FROM pg_class WHERE oid = to_regclass($1 || '_live'))::float8 AS live_rows
  FROM rollup_watermarks WHERE kind = $1`

/**
 * A live UPDATE of this many devices or fewer per LIVE_PROBE_RATIO rows of the live table is joined
 * by index probes of the live table's primary key, not by hashing the whole table. PostgreSQL's cost
 * model prices each probe as a random read and picks the hash join for any batch but a tiny one,
 * which makes a small batch's cost grow with the fleet. Measured with 20,000 live rows: 1,000 devices
 * 6-7 ms by index against 16-17 ms by hash; 10,000 devices 45 ms against 36 ms.
 */
const LIVE_PROBE_RATIO = 8

/** Runs `sql` (one statement) with hash and merge joins off; its own result. */
async function byIndexProbes(client: DbClient, sql: string): Promise<pg.QueryResult> {
  const replies = (await client.query(
    `SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off; ${sql};
     RESET enable_hashjoin; RESET enable_mergejoin`,
  )) as unknown as pg.QueryResult[]
  return replies[2]!
}

/** Months each client has seen exist; a dropped partition shows up as a failed insert, which clears it. */
const knownMonths = new WeakMap<DbClient, Set<string>>()

async function ensureMonthsCached(
  client: DbClient,
  kind: ReadingKind,
  hours: Set<string>,
): Promise<string[]> {
  const known = knownMonths.get(client) ?? new Set<string>()
  knownMonths.set(client, known)
  const missing = [...new Set([...hours].map((h) => `${kind}:${h.slice(0, 7)}`))].filter((m) => !known.has(m))
  if (missing.length === 0) return []
  const created = await ensureMonths(
    client,
    [kind],
    missing.map((m) => new Date(`${m.slice(kind.length + 1)}-01T00:00:00Z`)),
  )
  for (const m of missing) known.add(m)
  return created
}

/** Clients whose session already has the temp batch tables (created in a committed transaction). */
const batchTablesReady = new WeakMap<DbClient, Set<string>>()

/** Adds the milliseconds since the previous lap to `phase`, when timings were asked for. */
function stopwatch(timings: WriteTuning['timings']): (phase: WritePhase) => void {
  let mark = performance.now()
  return (phase) => {
    const now = performance.now()
    if (timings) timings[phase] = (timings[phase] ?? 0) + (now - mark)
    mark = now
  }
}

/** One batch's transaction: the client, the plan, the watermark and where the result goes. */
interface BatchContext<Row> {
  client: DbClient
  spec: KindSpec<Row>
  plan: BatchPlan
  shard: number
  /** Rows of several shards (WriteOptions.parts): only the path where every row is new. */
  grouped: boolean
  shardOf: (row: number) => number
  /** The watermark's hour ('YYYY-MM-DDTHH'); null: infinity, every row folds per batch. */
  closedBefore: string | null
  /** Rows of the kind's live table, as the planner's statistics have it (-1: not known yet). */
  liveRows: number
  result: WriteResult
  lap: (phase: WritePhase) => void
}

const isLate = (closedBefore: string | null, ts: string) =>
  closedBefore === null || ts.slice(0, 13) < closedBefore

const watermarkParam = (closedBefore: string | null) =>
  closedBefore === null ? 'infinity' : `${closedBefore}:00:00Z`

/**
 * The batch's locks, in a fixed order, and the watermark they pin. The rollup lock is shared: any
 * number of writers at once; closeHours() takes it exclusively, so the watermark read next cannot move
 * until this transaction ends, and every row below it is folded exactly once. Register meters (an
 * interval-only batch sends nothing more) get one lock per meter.
 */
async function lockAndReadWatermark<Row>(
  ctx: Omit<BatchContext<Row>, 'closedBefore' | 'liveRows'>,
): Promise<Pick<BatchContext<Row>, 'closedBefore' | 'liveRows'>> {
  const { client, spec, plan } = ctx
  await client.query('SELECT pg_advisory_xact_lock_shared($1, $2)', [LOCK_NAMESPACE, ROLLUP_LOCK[spec.kind]])
  const watermark = await client.query<{ hour: string | null; live_rows: number | null }>(WATERMARK, [
    spec.kind,
  ])
  if (plan.registerKeys.length > 0)
    await lockRegisterMeters(
      client,
      plan.registerKeys.map((k) => k.meterId),
    )
  const row = watermark.rows[0]
  return { closedBefore: row?.hour ?? null, liveRows: row?.live_rows ?? -1 }
}

/** Runs `step` in a savepoint; false when it hit a unique violation (rolled back), other errors throw. */
async function unlessDuplicate(client: DbClient, step: () => Promise<unknown>): Promise<boolean> {
  try {
    await withTransaction(client, step)
    return true
  } catch (err) {
    if (sqlStateOf(err) !== SQLSTATE.UNIQUE_VIOLATION) throw err
    return false
  }
}

/**
 * The live upsert (liveStatements) from the batch table, `distinct` when it holds one row per device:
 * the UPDATE, and the INSERT only when the UPDATE moved fewer devices than the batch has (a device not
 * live yet, or a reading older than its live row).
 */
async function upsertLive<Row>(ctx: BatchContext<Row>, distinct: boolean): Promise<void> {
  const { client, spec, plan } = ctx
  const source = distinct ? 'distinct' : 'newest'
  const update = spec.live.update[source]
  const probe = plan.newest.length * LIVE_PROBE_RATIO <= ctx.liveRows
  const moved = (probe ? await byIndexProbes(client, update) : await client.query(update)).rowCount ?? 0
  if (moved < plan.newest.length) await client.query(spec.live.insert[source])
}

/**
 * Every row was new and went straight into history. Fleet sums are added up exactly in JS (a few rows
 * to send), and only the late rows and the newest row per device go through the temp table.
 */
async function foldDirect<Row>(ctx: BatchContext<Row>): Promise<void> {
  const { client, spec, plan, result, lap } = ctx
  const { fields } = plan
  result.inserted = fields.length
  lap('insert')
  await client.query(spec.foldFleetSums, fleetSums(fields, spec.fleetColumns, ctx.shardOf))
  lap('fleet')
  const late = fields.map((_, i) => i).filter((i) => isLate(ctx.closedBefore, fields[i]![1]!))
  if (late.length > 0) {
    await copyRows(
      client,
      spec.copyBatch,
      late.map((i) => [String(i), ...fields[i]!]),
    )
    result.lateHourRows =
      (await client.query(spec.foldLate, [watermarkParam(ctx.closedBefore)])).rowCount ?? 0
    await client.query(spec.clearBatch)
  }
  lap('hourly')
  await copyRows(
    client,
    spec.copyBatch,
    plan.newest.map((i) => [String(i), ...fields[i]!]),
  )
  await upsertLive(ctx, true)
  lap('live')
}

/**
 * Redelivery or duplicates in the batch (or a mode without the direct COPY): everything goes through
 * the temp table, which ends up holding exactly the rows that were inserted, and is folded from there.
 */
async function insertStagedAndFold<Row>(ctx: BatchContext<Row>): Promise<void> {
  const { client, spec, plan, result, lap } = ctx
  await copyRows(
    client,
    spec.copyBatch,
    plan.fields.map((f, n) => [String(n), ...f]),
  )
  lap('copy')
  let inserted = plan.fields.length
  if (plan.mode !== 'insert' || !(await unlessDuplicate(client, () => client.query(spec.insertAll)))) {
    if (ctx.grouped) throw new GroupNotWritableError('some rows are stored already')
    // The staged path: dedupe the batch, INSERT … ON CONFLICT DO NOTHING, keep only what was inserted.
    const dupes = await client.query(spec.dedupeBatch)
    const skipped = await client.query(spec.insertNew)
    inserted -= (dupes.rowCount ?? 0) + (skipped.rowCount ?? 0)
    result.path = 'on-conflict'
  }
  result.inserted = inserted
  lap('insert')
  if (inserted === 0) return
  // Every row was inserted when rows of several shards are here: their sums are added up in JS.
  if (ctx.grouped)
    await client.query(spec.foldFleetSums, fleetSums(plan.fields, spec.fleetColumns, ctx.shardOf))
  else await client.query(spec.foldFleet, [ctx.shard])
  lap('fleet')
  if ([...plan.hours].some((h) => isLate(ctx.closedBefore, `${h}:`)))
    result.lateHourRows =
      (await client.query(spec.foldLate, [watermarkParam(ctx.closedBefore)])).rowCount ?? 0
  lap('hourly')
  await upsertLive(ctx, plan.newest.length === plan.fields.length)
  lap('live')
}

/** Re-derives the energy of the batch's register readings and their stored neighbours. */
async function deriveRegisters<Row>(ctx: BatchContext<Row>, maxPowerKw: number | undefined): Promise<void> {
  if (ctx.plan.registerKeys.length === 0) return
  const pass = await registerPass(ctx.client, ctx.plan.registerKeys, {
    shard: ctx.shard,
    watermark: watermarkParam(ctx.closedBefore),
    ...(maxPowerKw === undefined ? {} : { maxPowerKw }),
  })
  ctx.result.registerChanged = pass.changed
  ctx.result.lateHourRows += pass.hourlyRows
  ctx.lap('register')
}

/** The generic write path (see writeMeterBatch); `tuning` only from benchmarks and tests. */
export async function writeBatch<Row>(
  client: DbClient,
  spec: KindSpec<Row>,
  rows: readonly Row[],
  opts: WriteOptions = {},
  tuning: WriteTuning = {},
): Promise<WriteResult> {
  const result: WriteResult = {
    rows: rows.length,
    inserted: 0,
    duplicates: 0,
    lateHourRows: 0,
    path: 'optimistic',
    partitionsCreated: [],
    registerChanged: 0,
  }
  if (rows.length === 0) return result
  const lap = stopwatch(tuning.timings)
  const plan = planBatch(spec, rows, tuning.insertMode)
  const { grouped, shardOf } = shardsOf(rows.length, opts)
  if (grouped && plan.registerKeys.length > 0) throw new GroupNotWritableError('register readings')
  result.partitionsCreated = await ensureMonthsCached(client, spec.kind, plan.hours)
  lap('partitions')
  const ready = batchTablesReady.get(client) ?? new Set<string>()
  try {
    await withTransaction(client, async () => {
      if (!ready.has(spec.kind)) await client.query(spec.createBatchTable)
      const base = { client, spec, plan, shard: opts.shard ?? 0, grouped, shardOf, result, lap }
      const ctx: BatchContext<Row> = { ...base, ...(await lockAndReadWatermark(base)) }
      let direct = false
      if (plan.mode === 'copy') {
        direct = await unlessDuplicate(client, () => copyRows(client, spec.copyHistory, plan.fields))
        lap('copy')
      }
      await (direct ? foldDirect(ctx) : insertStagedAndFold(ctx))
      result.duplicates = rows.length - result.inserted
      await deriveRegisters(ctx, opts.maxPowerKw)
    })
  } catch (err) {
    if (sqlStateOf(err) === SQLSTATE.CHECK_VIOLATION) knownMonths.delete(client) // dropped meanwhile: check again next time
    throw err
  }
  ready.add(spec.kind)
  batchTablesReady.set(client, ready)
  lap('commit')
  return result
}

/**
 * Stores a batch of meter readings in one transaction: history (exactly once per (meter, ts)), the
 * fleet minute rollup, late rows into the hourly rollup, and the guarded live upsert. Creates missing
 * month partitions first (own transaction), so `client` must not be inside a transaction.
 */
export function writeMeterBatch(client: DbClient, rows: readonly MeterRow[], opts?: WriteOptions) {
  return writeBatch(client, METER, rows, opts)
}

/** As writeMeterBatch, for vehicle readings. */
export function writeVehicleBatch(client: DbClient, rows: readonly VehicleRow[], opts?: WriteOptions) {
  return writeBatch(client, VEHICLE, rows, opts)
}
