// What a batch's rows say before any statement runs: fields, hours, the newest row per device.
import { DecimalSum } from './decimal-sum.js'
import { microsOf } from './copy-text.js'
import type { KindSpec } from './queries/kind-spec.js'
import type { RegisterKey } from './register-pass.js'

export type InsertMode = 'auto' | 'copy' | 'insert' | 'on-conflict'

export interface BatchPlan {
  /** Row fields in history column order, in batch order. */
  fields: (string | null)[][]
  /** 'YYYY-MM-DDTHH' of every row (UTC). */
  hours: Set<string>
  /** Index of the newest row of each device, in device order. */
  newest: number[]
  registerKeys: RegisterKey[]
  /** `auto` resolved. */
  mode: Exclude<InsertMode, 'auto'>
}

const UTC_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/

/** 'YYYY-MM-DDTHH' of a normalised UTC timestamp; refuses any other form. */
function hourPrefix(ts: string): string {
  if (!UTC_TIMESTAMP.test(ts))
    throw new RangeError(`timestamp must be UTC RFC 3339 (…Z), got ${JSON.stringify(ts)}`)
  return ts.slice(0, 13)
}

/** Reads the batch once; refuses a timestamp that is not normalised UTC before anything is written. */
export function planBatch<Row>(
  spec: KindSpec<Row>,
  rows: readonly Row[],
  mode: InsertMode = 'auto',
): BatchPlan {
  // Normalised UTC timestamps sort as text down to the second: the hour prefix decides lateness and
  // the month prefix the partition, without parsing a date per row.
  const hours = new Set<string>()
  for (const r of rows) hours.add(hourPrefix(spec.timestamp(r)))
  const registerKeys: RegisterKey[] = []
  if (spec.registerKey) {
    for (const r of rows) {
      const key = spec.registerKey(r)
      if (key) registerKeys.push(key)
    }
  }
  const fields = rows.map((r) => spec.fields(r))
  const newest = newestPerDevice(fields)
  // One row per device and batch (a large fleet): the live upsert needs every row in the temp table
  // anyway, so COPY there once and insert from it. Several rows per device: COPY straight into history.
  const resolved = mode === 'auto' ? (newest.length * 2 > rows.length ? 'insert' : 'copy') : mode
  return { fields, hours, newest, registerKeys, mode: resolved }
}

/** Per (UTC minute, shard): [shards[], minutes[], readings[], ...one exact sum[] per column]. */
export function fleetSums(
  fields: (string | null)[][],
  columns: number[],
  shardOf: (row: number) => number,
): unknown[] {
  const minutes = new Map<string, { shard: number; minute: string; n: number; sums: DecimalSum[] }>()
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!
    const shard = shardOf(i)
    const minute = `${f[1]!.slice(0, 16)}:00Z`
    const key = `${minute} ${shard}`
    let m = minutes.get(key)
    if (!m) {
      m = { shard, minute, n: 0, sums: columns.map(() => new DecimalSum()) }
      minutes.set(key, m)
    }
    m.n++
    for (let j = 0; j < columns.length; j++) m.sums[j]!.add(f[columns[j]!]!)
  }
  const sorted = [...minutes.values()].sort((a, b) =>
    a.minute === b.minute ? a.shard - b.shard : a.minute < b.minute ? -1 : 1,
  )
  return [
    sorted.map((m) => m.shard),
    sorted.map((m) => m.minute),
    sorted.map((m) => m.n),
    ...columns.map((_, j) => sorted.map((m) => m.sums[j]!.toString())),
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
