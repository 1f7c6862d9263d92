import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { from as copyFrom } from 'pg-copy-streams'
import { copyRow, microsOf } from './copy-text.js'
import { LOCK_NAMESPACE, LOCKS } from './locks.js'
import { monthsOf } from './partition-names.js'
import { ensureMonths } from './partitions.js'
import type { KindSpec } from './queries/kind-spec.js'
import { METER } from './queries/meter.js'
import { VEHICLE } from './queries/vehicle.js'
import type { DbClient, MeterRow, ReadingKind, VehicleRow } from './types.js'

export interface WriteOptions {
  /** Fleet rollup shard: the Kafka partition the rows came from (one writer per shard). Default 0. */
  shard?: number
  /**
   * `optimistic` (default): COPY straight into history inside a savepoint; only when that hits a
   * unique violation (a redelivery), roll back to the savepoint and take the staged path.
   * `staged`: always COPY into a temp table, then INSERT … ON CONFLICT DO NOTHING.
   */
  insertMode?: 'optimistic' | 'staged'
  /** Filled with milliseconds per phase, for benchmarks. */
  timings?: Partial<Record<WritePhase, number>>
}

export type WritePhase = 'partitions' | 'insert' | 'fleet' | 'hourly' | 'live' | 'commit'

export interface WriteResult {
  rows: number
  /** Rows new to history; the rest were already stored (redelivery or duplicates in the batch). */
  inserted: number
  duplicates: number
  /** Inserted rows older than the rollup watermark, folded into *_hourly in this transaction. */
  lateRows: number
  path: 'copy' | 'staged'
  partitionsCreated: string[]
}

const ROLLUP_LOCK: Record<ReadingKind, number> = { meter: LOCKS.meterRollup, vehicle: LOCKS.vehicleRollup }

const WATERMARK = `
  SELECT (extract(epoch FROM closed_before) * 1000)::float8 AS ms FROM rollup_watermarks WHERE kind = $1`

const UNIQUE_VIOLATION = '23505'
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

/** Staging + ON CONFLICT DO NOTHING: returns the batch indices that were actually inserted. */
async function insertStaged<Row>(client: DbClient, spec: KindSpec<Row>, fields: (string | null)[][]) {
  await client.query(spec.createStaging)
  await copyRows(
    client,
    spec.copyStaging,
    fields.map((f, n) => [String(n), ...f]),
  )
  const { rows } = await client.query<{ n: number }>(spec.insertFromStaging)
  return rows.map((r) => r.n).sort((a, b) => a - b)
}

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
    lateRows: 0,
    path: 'copy',
    partitionsCreated: [],
  }
  if (rows.length === 0) return result
  const timings = opts.timings
  let mark = performance.now()
  const lap = (phase: WritePhase) => {
    const now = performance.now()
    if (timings) timings[phase] = (timings[phase] ?? 0) + (now - mark)
    mark = now
  }
  const fields = rows.map((r) => spec.fields(r))
  const micros = rows.map((r) => microsOf(spec.timestamp(r)))
  result.partitionsCreated = await ensureMonths(
    client,
    [spec.kind],
    monthsOf(micros.map((us) => Math.floor(us / 1000))),
  )
  lap('partitions')

  await client.query('BEGIN')
  try {
    // Shared: any number of writers at once; closeHours() takes it exclusively, so the watermark read
    // next cannot move until this transaction ends, and every row below it is folded exactly once.
    await client.query('SELECT pg_advisory_xact_lock_shared($1, $2)', [
      LOCK_NAMESPACE,
      ROLLUP_LOCK[spec.kind],
    ])
    const watermark = await client.query<{ ms: number }>(WATERMARK, [spec.kind])
    const closedBeforeUs = (watermark.rows[0]?.ms ?? Number.POSITIVE_INFINITY) * 1000

    let inserted: number[] | null = null // null: every row of the batch
    if (opts.insertMode === 'staged') {
      inserted = await insertStaged(client, spec, fields)
      result.path = 'staged'
    } else {
      await client.query('SAVEPOINT batch_copy')
      try {
        await copyRows(client, spec.copyHistory, fields)
        await client.query('RELEASE SAVEPOINT batch_copy')
      } catch (err) {
        if (pgCode(err) !== UNIQUE_VIOLATION) throw err
        await client.query('ROLLBACK TO SAVEPOINT batch_copy')
        inserted = await insertStaged(client, spec, fields)
        result.path = 'staged'
      }
    }
    const idx = inserted ?? fields.map((_, i) => i)
    result.inserted = idx.length
    result.duplicates = rows.length - idx.length
    lap('insert')

    if (idx.length > 0) {
      const column = (j: number, among: number[] = idx) => among.map((i) => fields[i]![j]!)
      await client.query(spec.foldFleet, [opts.shard ?? 0, ...spec.fleetColumns.map((j) => column(j))])
      lap('fleet')

      const late = idx.filter((i) => micros[i]! < closedBeforeUs)
      result.lateRows = late.length
      if (late.length > 0) {
        const width = fields[0]!.length - 1 // every column but received_at
        await client.query(
          spec.foldHourly,
          Array.from({ length: width }, (_, j) => column(j, late)),
        )
      }
      lap('hourly')

      // Newest inserted reading per device; sorted by id so concurrent writers lock live rows in one order.
      const newest = new Map<string, number>()
      for (const i of idx) {
        const id = fields[i]![0]!
        const seen = newest.get(id)
        if (seen === undefined || micros[i]! > micros[seen]!) newest.set(id, i)
      }
      const liveIdx = [...newest.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map((e) => e[1])
      await client.query(
        spec.upsertLive,
        Array.from({ length: fields[0]!.length }, (_, j) => liveIdx.map((i) => fields[i]![j])),
      )
      lap('live')
    }
    await client.query('COMMIT')
    lap('commit')
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {})
    throw err
  }
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

/** Raw COPY of meter rows straight into history, nothing else: the benchmark's baseline. */
export async function copyMeterRowsRaw(client: DbClient, rows: readonly MeterRow[]): Promise<void> {
  await copyRows(client, METER.copyHistory, rows.map(METER.fields))
}

/** Raw COPY of vehicle rows straight into history, nothing else: the benchmark's baseline. */
export async function copyVehicleRowsRaw(client: DbClient, rows: readonly VehicleRow[]): Promise<void> {
  await copyRows(client, VEHICLE.copyHistory, rows.map(VEHICLE.fields))
}
