// Benchmark and test seams, kept out of the production API: `@energy-ingest/db/internal`.
import type { ClientBase } from 'pg'
import { copyRows } from './copy-stream.js'
import { METER } from './queries/meter.js'
import { VEHICLE } from './queries/vehicle.js'
import { withTransaction } from './transaction.js'
import type { DbClient, MeterRow, VehicleRow } from './types.js'
import { writeBatch, type WriteOptions, type WriteTuning } from './write.js'

export type { InsertMode } from './batch-plan.js'
export type { WritePhase, WriteTuning } from './write.js'

/** writeMeterBatch with a forced insert mode and/or phase timings. */
export function writeMeterBatchTuned(
  client: DbClient,
  rows: readonly MeterRow[],
  opts: WriteOptions & WriteTuning = {},
) {
  const { insertMode, timings, ...rest } = opts
  return writeBatch(client, METER, rows, rest, { insertMode, timings })
}

/** writeVehicleBatch with a forced insert mode and/or phase timings. */
export function writeVehicleBatchTuned(
  client: DbClient,
  rows: readonly VehicleRow[],
  opts: WriteOptions & WriteTuning = {},
) {
  const { insertMode, timings, ...rest } = opts
  return writeBatch(client, VEHICLE, rows, rest, { insertMode, timings })
}

/** Raw COPY of meter rows straight into history, nothing else: the benchmark's baseline. */
export async function copyMeterRowsRaw(client: DbClient, rows: readonly MeterRow[]): Promise<void> {
  await copyRows(client, METER.copyHistory, rows.map(METER.fields))
}

/** Raw COPY of vehicle rows straight into history, nothing else: the benchmark's baseline. */
export async function copyVehicleRowsRaw(client: DbClient, rows: readonly VehicleRow[]): Promise<void> {
  await copyRows(client, VEHICLE.copyHistory, rows.map(VEHICLE.fields))
}

const LIVE_FLOOR_TABLE = 'vehicle_live_floor'
const VEHICLE_LIVE_COLUMNS = 'vehicle_id, ts, soc, kwh_delivered_dc, battery_temp, received_at'

/**
 * The least known cost of writing history and the live table per batch, the benchmark's floor for the
 * writer path: the writer's own two shapes, chosen as it chooses them, with nothing else (no guard, no
 * rollups, no fleet sums, no planning). Mostly one row per device: every row COPYed into a temp table,
 * `INSERT … SELECT` into history and one `UPDATE … FROM` of the live rows. Else: a COPY straight into
 * history, and each device's newest row COPYed into the temp table for the `UPDATE`. An `INSERT` adds
 * the devices not live yet.
 */
export async function copyVehicleRowsRawWithLive(
  client: DbClient,
  rows: readonly VehicleRow[],
): Promise<void> {
  const newest = new Map<string, VehicleRow>()
  for (const row of rows) {
    const seen = newest.get(row.vehicleId)
    if (!seen || Date.parse(seen.timestamp) < Date.parse(row.timestamp)) newest.set(row.vehicleId, row)
  }
  await client.query(
    `CREATE TEMP TABLE IF NOT EXISTS ${LIVE_FLOOR_TABLE} (vehicle_id text, ts timestamptz, soc numeric,
       kwh_delivered_dc numeric, battery_temp numeric, received_at timestamptz) ON COMMIT DELETE ROWS`,
  )
  const copyTemp = (from: Iterable<VehicleRow>) =>
    copyRows(
      client,
      `COPY ${LIVE_FLOOR_TABLE} (${VEHICLE_LIVE_COLUMNS}) FROM STDIN`,
      [...from].map(VEHICLE.fields),
    )
  let source = LIVE_FLOOR_TABLE
  if (newest.size * 2 > rows.length) {
    await copyTemp(rows)
    await client.query(
      `INSERT INTO vehicle_history (${VEHICLE_LIVE_COLUMNS}) SELECT ${VEHICLE_LIVE_COLUMNS} FROM ${LIVE_FLOOR_TABLE}`,
    )
    if (newest.size < rows.length)
      source = `(SELECT DISTINCT ON (vehicle_id) * FROM ${LIVE_FLOOR_TABLE} ORDER BY vehicle_id, ts DESC)`
  } else {
    await copyRows(client, VEHICLE.copyHistory, rows.map(VEHICLE.fields))
    await copyTemp(newest.values())
  }
  const moved = await client.query(
    `UPDATE vehicle_live l SET ts = f.ts, soc = f.soc, kwh_delivered_dc = f.kwh_delivered_dc,
       battery_temp = f.battery_temp, received_at = f.received_at, updated_at = now()
     FROM ${source} f WHERE l.vehicle_id = f.vehicle_id`,
  )
  if ((moved.rowCount ?? 0) < newest.size)
    await client.query(
      `INSERT INTO vehicle_live (${VEHICLE_LIVE_COLUMNS}) SELECT ${VEHICLE_LIVE_COLUMNS} FROM ${source} f
       ON CONFLICT (vehicle_id) DO NOTHING`,
    )
}

/** A transaction left open across a test's steps (a lock holder, a blocker); `end` commits or rolls back. */
export interface HeldTransaction {
  end(commit: boolean): Promise<void>
}

class RolledBack extends Error {}

/**
 * Opens a transaction on `client` through withTransaction and keeps it open until `end`. Statements
 * for it are sent on `client` as usual meanwhile (a pg client runs them in order, in this session).
 */
export async function holdTransaction(client: ClientBase): Promise<HeldTransaction> {
  let decide!: (commit: boolean) => void
  const decided = new Promise<boolean>((resolve) => (decide = resolve))
  let opened!: () => void
  const begun = new Promise<void>((resolve) => (opened = resolve))
  const ended = withTransaction(client, async () => {
    opened()
    if (!(await decided)) throw new RolledBack()
  }).catch((err: unknown) => {
    if (!(err instanceof RolledBack)) throw err
  })
  ended.catch(() => {}) // rethrown by end(); a test that never ends it must not see it unhandled
  await Promise.race([begun, ended])
  return {
    end: async (commit) => {
      decide(commit)
      await ended
    },
  }
}
