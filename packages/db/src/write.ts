import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { from as copyFrom } from 'pg-copy-streams'
import { copyRow, microsOf } from './copy-text.js'
import { DecimalSum } from './decimal-sum.js'
import { LOCK_NAMESPACE, LOCKS } from './locks.js'
import { ensureMonths } from './partitions.js'
import type { KindSpec } from './queries/kind-spec.js'
import { METER } from './queries/meter.js'
import { lockRegisterMeters, registerPass, type RegisterKey } from './register-pass.js'
import { VEHICLE } from './queries/vehicle.js'
import type { DbClient, MeterRow, ReadingKind, VehicleRow } from './types.js'

export interface WriteOptions {
  /** Fleet rollup shard: the Kafka partition the rows came from (one writer per shard). Default 0. */
  shard?: number
  /**
   * `auto` (default): `insert` when the batch holds about one row per device, else `copy`.
   * `copy`: COPY straight into history inside a savepoint; on a unique violation (a
   * redelivery, a duplicate inside the batch) roll back to the savepoint and take the `on-conflict` path.
   * `insert`: COPY into the session temp table, then a plain INSERT … SELECT into history in a savepoint,
   * `on-conflict` on a unique violation. `on-conflict`: temp table, then INSERT … ON CONFLICT DO NOTHING.
   * `on-conflict` is kept for the benchmark's comparison.
   */
  insertMode?: 'auto' | 'copy' | 'insert' | 'on-conflict'
  /** Power ceiling of the register `suspect` rule, kW (register-energy.ts). Default 400. */
  maxPowerKw?: number
  /** Filled with milliseconds per phase, for benchmarks. */
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

const ROLLUP_LOCK: Record<ReadingKind, number> = { meter: LOCKS.meterRollup, vehicle: LOCKS.vehicleRollup }

// The watermark's hour as 'YYYY-MM-DDTHH' (UTC), comparable with hourPrefix(); NULL for infinity.
const WATERMARK = `
  SELECT CASE WHEN closed_before <> 'infinity'
    THEN to_char(closed_before AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24') END AS hour
  FROM rollup_watermarks WHERE kind = $1`

const UTC_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/

/** 'YYYY-MM-DDTHH' of a normalised UTC timestamp; refuses any other form. */
function hourPrefix(ts: string): string {
  if (!UTC_TIMESTAMP.test(ts))
    throw new RangeError(`timestamp must be UTC RFC 3339 (…Z), got ${JSON.stringify(ts)}`)
  return ts.slice(0, 13)
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

const UNIQUE_VIOLATION = '23505'
/** "no partition of relation … found for row" */
const NO_PARTITION = '23514'
const COPY_CHUNK_CHARS = 256 * 1024

/** Streams rows to a COPY … FROM STDIN; a failure on either side destroys the stream and aborts the COPY. */
async function copyRows(client: DbClient, sql: string, rows: Iterable<(string | null)[]>): Promise<void> {
  function* chunks() {
    let chunk = ''
    for (const row of rows) {
      chunk += copyRow(row)
      if (chunk.length >= COPY_CHUNK_CHARS) {
        yield chunk
        chunk = ''
      }
    }
    if (chunk.length > 0) yield chunk
  }
  await pipeline(Readable.from(chunks()), client.query(copyFrom(sql)))
}

function pgCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : undefined
}

/** Clients whose session already has the temp batch tables (created in a committed transaction). */
const batchTablesReady = new WeakMap<DbClient, Set<string>>()

async function writeBatch<Row>(
  client: DbClient,
  spec: KindSpec<Row>,
  rows: readonly Row[],
  opts: WriteOptions = {},
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
  const timings = opts.timings
  let mark = performance.now()
  const lap = (phase: WritePhase) => {
    const now = performance.now()
    if (timings) timings[phase] = (timings[phase] ?? 0) + (now - mark)
    mark = now
  }
  // Normalised UTC timestamps sort as text down to the second: the hour prefix decides lateness and
  // the month prefix the partition, without parsing a date per row.
  const hours = new Set<string>()
  for (const r of rows) hours.add(hourPrefix(spec.timestamp(r)))
  result.partitionsCreated = await ensureMonthsCached(client, spec.kind, hours)
  lap('partitions')

  const registerKeys: RegisterKey[] = []
  if (spec.registerKey) {
    for (const r of rows) {
      const key = spec.registerKey(r)
      if (key) registerKeys.push(key)
    }
  }
  const ready = batchTablesReady.get(client) ?? new Set<string>()
  const fields = rows.map((r) => spec.fields(r))
  const newest = newestPerDevice(fields)
  // One row per device and batch (a large fleet): the live upsert needs every row in the temp table
  // anyway, so COPY there once and insert from it. Several rows per device: COPY straight into history.
  const mode =
    opts.insertMode === undefined || opts.insertMode === 'auto'
      ? newest.length * 2 > rows.length
        ? 'insert'
        : 'copy'
      : opts.insertMode
  await client.query('BEGIN')
  try {
    if (!ready.has(spec.kind)) await client.query(spec.createBatchTable)
    // Shared: any number of writers at once; closeHours() takes it exclusively, so the watermark read
    // next cannot move until this transaction ends, and every row below it is folded exactly once.
    await client.query('SELECT pg_advisory_xact_lock_shared($1, $2)', [
      LOCK_NAMESPACE,
      ROLLUP_LOCK[spec.kind],
    ])
    const watermark = await client.query<{ hour: string | null }>(WATERMARK, [spec.kind])
    const closedBefore = watermark.rows[0]?.hour ?? null // null: infinity, every row folds per batch
    const isLate = (ts: string) => closedBefore === null || ts.slice(0, 13) < closedBefore
    // Register meters only (an interval-only batch sends nothing more): one lock per meter.
    if (registerKeys.length > 0)
      await lockRegisterMeters(
        client,
        registerKeys.map((k) => k.meterId),
      )

    let direct = false
    if (mode === 'copy') {
      await client.query('SAVEPOINT batch_insert')
      try {
        await copyRows(client, spec.copyHistory, fields)
        await client.query('RELEASE SAVEPOINT batch_insert')
        direct = true
      } catch (err) {
        if (pgCode(err) !== UNIQUE_VIOLATION) throw err
        await client.query('ROLLBACK TO SAVEPOINT batch_insert')
      }
      lap('copy')
    }

    if (direct) {
      // Every row is new. Fleet sums are added up exactly in JS (a few rows to send), and only the
      // late rows and the newest row per device go through the temp table.
      result.inserted = rows.length
      lap('insert')
      await client.query(spec.foldFleetSums, [opts.shard ?? 0, ...fleetSums(fields, spec.fleetColumns)])
      lap('fleet')
      const late = fields.map((_, i) => i).filter((i) => isLate(fields[i]![1]!))
      if (late.length > 0) {
        await copyRows(
          client,
          spec.copyBatch,
          late.map((i) => [String(i), ...fields[i]!]),
        )
        result.lateHourRows =
          (await client.query(spec.foldLate, [watermarkParam(closedBefore)])).rowCount ?? 0
        await client.query(spec.clearBatch)
      }
      lap('hourly')
      await copyRows(
        client,
        spec.copyBatch,
        newest.map((i) => [String(i), ...fields[i]!]),
      )
      await client.query(spec.upsertLive)
      lap('live')
    } else {
      // Redelivery or duplicates in the batch (or a mode without the direct COPY): everything goes
      // through the temp table, which ends up holding exactly the rows that were inserted.
      await copyRows(
        client,
        spec.copyBatch,
        fields.map((f, n) => [String(n), ...f]),
      )
      lap('copy')
      let inserted = rows.length
      if (mode === 'insert') {
        await client.query('SAVEPOINT batch_insert')
        try {
          await client.query(spec.insertAll)
          await client.query('RELEASE SAVEPOINT batch_insert')
        } catch (err) {
          if (pgCode(err) !== UNIQUE_VIOLATION) throw err
          await client.query('ROLLBACK TO SAVEPOINT batch_insert')
          inserted = await insertNew(client, spec, rows.length)
          result.path = 'on-conflict'
        }
      } else {
        inserted = await insertNew(client, spec, rows.length)
        result.path = 'on-conflict'
      }
      result.inserted = inserted
      lap('insert')
      if (inserted > 0) {
        await client.query(spec.foldFleet, [opts.shard ?? 0])
        lap('fleet')
        if ([...hours].some((h) => isLate(`${h}:`))) {
          result.lateHourRows =
            (await client.query(spec.foldLate, [watermarkParam(closedBefore)])).rowCount ?? 0
        }
        lap('hourly')
        await client.query(spec.upsertLive)
        lap('live')
      }
    }
    result.duplicates = rows.length - result.inserted
    if (registerKeys.length > 0) {
      const pass = await registerPass(client, registerKeys, {
        shard: opts.shard ?? 0,
        watermark: watermarkParam(closedBefore),
        ...(opts.maxPowerKw === undefined ? {} : { maxPowerKw: opts.maxPowerKw }),
      })
      result.registerChanged = pass.changed
      result.lateHourRows += pass.hourlyRows
      lap('register')
    }
    await client.query('COMMIT')
    ready.add(spec.kind)
    batchTablesReady.set(client, ready)
    lap('commit')
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {})
    if (pgCode(err) === NO_PARTITION) knownMonths.delete(client) // dropped meanwhile: check again next time
    throw err
  }
  return result
}

const watermarkParam = (closedBefore: string | null) =>
  closedBefore === null ? 'infinity' : `${closedBefore}:00:00Z`

/** Per UTC minute: [minutes[], readings[], ...one exact sum[] per column]. */
function fleetSums(fields: (string | null)[][], columns: number[]): unknown[] {
  const minutes = new Map<string, { n: number; sums: DecimalSum[] }>()
  for (const f of fields) {
    const minute = `${f[1]!.slice(0, 16)}:00Z`
    let m = minutes.get(minute)
    if (!m) {
      m = { n: 0, sums: columns.map(() => new DecimalSum()) }
      minutes.set(minute, m)
    }
    m.n++
    for (let j = 0; j < columns.length; j++) m.sums[j]!.add(f[columns[j]!]!)
  }
  const keys = [...minutes.keys()].sort()
  return [
    keys,
    keys.map((k) => minutes.get(k)!.n),
    ...columns.map((_, j) => keys.map((k) => minutes.get(k)!.sums[j]!.toString())),
  ]
}

/** Index of the newest row of each device, in device order (so writers lock live rows in one order). */
function newestPerDevice(fields: (string | null)[][]): number[] {
  const newest = new Map<string, number>()
  for (let i = 0; i < fields.length; i++) {
    const id = fields[i]![0]!
    const seen = newest.get(id)
    if (seen === undefined || isBefore(fields[seen]![1]!, fields[i]![1]!)) newest.set(id, i)
  }
  return [...newest.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map((e) => e[1])
}

/** Normalised UTC timestamps compare as text when their fractions have the same length. */
function isBefore(a: string, b: string): boolean {
  return a.length === b.length ? a < b : microsOf(a) < microsOf(b)
}

/** The staged path: dedupe the batch, INSERT … ON CONFLICT DO NOTHING, keep only what was inserted. */
async function insertNew<Row>(client: DbClient, spec: KindSpec<Row>, rows: number): Promise<number> {
  const dupes = await client.query(spec.dedupeBatch)
  const skipped = await client.query(spec.insertNew)
  return rows - (dupes.rowCount ?? 0) - (skipped.rowCount ?? 0)
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

/** Raw COPY of meter rows straight into history, nothing else: the benchmark's baseline. */
export async function copyMeterRowsRaw(client: DbClient, rows: readonly MeterRow[]): Promise<void> {
  await copyRows(client, METER.copyHistory, rows.map(METER.fields))
}

/** Raw COPY of vehicle rows straight into history, nothing else: the benchmark's baseline. */
export async function copyVehicleRowsRaw(client: DbClient, rows: readonly VehicleRow[]): Promise<void> {
  await copyRows(client, VEHICLE.copyHistory, rows.map(VEHICLE.fields))
}
