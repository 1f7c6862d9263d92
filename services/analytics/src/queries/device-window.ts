// The frame of every per-device answer. Each answer is ONE statement: its freshness (analytics_as_of),
// whether the device ever reported, the rollup watermark (read inside partsSql) and its aggregates are
// read together, so they come from one snapshot without an explicit transaction, in one round trip.
import type pg from 'pg'
import { DeviceNotFound, FreshnessUnknown } from '../errors.js'
import type { Params } from './parts.js'
import type { Range } from './window.js'

/** Select-list items every per-device statement returns: `as_of` and `found`. */
export function frameColumns(kind: 'meter' | 'vehicle', id: string, p: Params): string {
  const column = kind === 'meter' ? 'meter_id' : 'vehicle_id'
  return `analytics_as_of() AS as_of, EXISTS (SELECT 1 FROM ${kind}_live WHERE ${column} = ${p.add(id)}) AS found`
}

export interface Frame {
  as_of: Date | null
  found: boolean
}

/** Runs a per-device statement; 503 when freshness is unknown, then 404 for a device never seen. */
export async function deviceStatement<R extends Frame>(
  pool: pg.Pool,
  kind: 'meter' | 'vehicle',
  id: string,
  statement: { text: string; values: unknown[] },
): Promise<{ rows: R[]; asOf: Date }> {
  const { rows } = await pool.query<R>(statement.text, statement.values)
  const first = rows[0]!
  // A replica that has replayed nothing since it started and has no heartbeat row cannot tell.
  if (first.as_of === null) throw new FreshnessUnknown()
  if (!first.found) throw new DeviceNotFound(kind, id)
  return { rows, asOf: first.as_of }
}

/** The window and freshness fields every per-device answer carries. */
export function windowFields(window: Range, asOf: Date) {
  return {
    windowStart: window.from.toISOString(),
    windowEnd: window.to.toISOString(),
    asOf: asOf.toISOString(),
  }
}
