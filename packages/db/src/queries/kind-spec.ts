import type { ReadingKind } from '../types.js'

/** Everything the generic write path needs to know about one reading kind. */
export interface KindSpec<Row> {
  kind: ReadingKind
  /** Fields in history column order: [device id, ts, ...values, received_at]. */
  fields(row: Row): (string | null)[]
  deviceId(row: Row): string
  timestamp(row: Row): string
  copyHistory: string
  createStaging: string
  copyStaging: string
  /** Inserts staging into history, skipping conflicts; returns the staging ordinals `n` inserted. */
  insertFromStaging: string
  /** $1 shard, then the arrays listed by fleetColumns. */
  foldFleet: string
  fleetColumns: number[]
  /** Arrays of every history column except received_at. */
  foldHourly: string
  /** Arrays of every history column. */
  upsertLive: string
  /** Recomputes hourly rows of [$1, $2) from history (closeHours). */
  materializeHourly: string
}
