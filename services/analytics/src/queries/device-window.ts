import type pg from 'pg'
import { DeviceNotFound, FreshnessUnknown } from '../errors.js'
import { deviceRow, type DeviceRow } from './device-aggregates.js'
import type { Range } from './window.js'

/** The window and freshness fields every per-device window answer carries. */
function framed<T extends object>(body: T, window: Range, asOf: Date) {
  return {
    ...body,
    windowStart: window.from.toISOString(),
    windowEnd: window.to.toISOString(),
    asOf: asOf.toISOString(),
  }
}

/**
 * A per-device window answer from one statement of device-aggregates.ts: one round trip, one
 * snapshot; a 503 when the replica cannot tell how fresh it is, a 404 for a device that never reported.
 */
export async function deviceStatementAnswer<T extends object>(
  pool: pg.Pool,
  kind: 'meter' | 'vehicle',
  deviceId: string,
  window: Range,
  statement: { name: string; text: string },
  answer: (row: DeviceRow) => T,
  /** The statement's parameters after the device and the window ($4 …). */
  more: unknown[] = [],
): Promise<T & { windowStart: string; windowEnd: string; asOf: string }> {
  const row = await deviceRow(pool, statement, deviceId, window, more)
  // A replica that has replayed nothing since it started and has no heartbeat row cannot tell.
  if (row.as_of === null) throw new FreshnessUnknown()
  if (!row.known) throw new DeviceNotFound(kind, deviceId)
  return framed(answer(row), window, row.as_of)
}
