// Monthly partition naming and bounds: pure functions, always in UTC.

/** Tables range-partitioned by UTC month, with the column they are partitioned on. */
export const PARTITIONED_TABLES = {
  meter_history: 'ts',
  vehicle_history: 'ts',
  meter_hourly: 'hour',
  vehicle_hourly: 'hour',
} as const
export type PartitionedTable = keyof typeof PARTITIONED_TABLES

export interface MonthPartition {
  /** e.g. `meter_history_2026_01` */
  name: string
  parent: string
  /** Inclusive lower bound: the first instant of the month, UTC. */
  from: Date
  /** Exclusive upper bound: the first instant of the next month, UTC. */
  to: Date
}

const pad2 = (n: number) => String(n).padStart(2, '0')

/** First instant (UTC) of the month containing `date`, shifted by `addMonths`. */
export function monthStart(date: Date, addMonths = 0): Date {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + addMonths, 1))
}

/** The partition of `table` that holds `date`: its name (`<table>_YYYY_MM`) and [from, to) bounds. */
export function partitionFor(table: string, date: Date): MonthPartition {
  if (Number.isNaN(date.getTime())) throw new RangeError('partitionFor: invalid date')
  const from = monthStart(date)
  const to = monthStart(date, 1)
  const name = `${table}_${from.getUTCFullYear()}_${pad2(from.getUTCMonth() + 1)}`
  return { name, parent: table, from, to }
}

/** Parses `<table>_YYYY_MM` back into its month; null when the name is not one of ours. */
export function parsePartitionName(table: string, name: string): MonthPartition | null {
  if (!name.startsWith(`${table}_`)) return null
  const m = /^(\d{4})_(\d{2})$/.exec(name.slice(table.length + 1))
  if (!m) return null
  const month = Number(m[2])
  if (month < 1 || month > 12) return null
  return partitionFor(table, new Date(Date.UTC(Number(m[1]), month - 1, 1)))
}

/** Distinct month starts of a set of epoch-millisecond instants, ascending. */
export function monthsOf(epochMs: Iterable<number>): Date[] {
  const seen = new Set<number>()
  for (const ms of epochMs) {
    const d = new Date(ms)
    seen.add(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1))
  }
  return [...seen].sort((a, b) => a - b).map((ms) => new Date(ms))
}

// The retention horizon lives in contracts, where the gateway reads it too; re-exported for db's users.
export { retentionCutoff } from '@energy-ingest/contracts'
