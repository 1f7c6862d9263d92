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
