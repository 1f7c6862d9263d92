import type pg from 'pg'
import { DeviceNotFound } from '../errors.js'
import { inSnapshot, type SnapshotState } from './snapshot.js'
import type { Range } from './window.js'

/**
 * The frame of every per-device window answer: one snapshot, a 404 for a device that never reported
 * (looked up with the snapshot's state, in its first round trip), and the window and freshness fields
 * every such answer carries.
 */
export function deviceWindowAnswer<T extends object>(
  pool: pg.Pool,
  kind: 'meter' | 'vehicle',
  deviceId: string,
  window: Range,
  answer: (client: pg.PoolClient, state: SnapshotState) => Promise<T>,
): Promise<T & { windowStart: string; windowEnd: string; asOf: string }> {
  return inSnapshot(
    pool,
    async (client, state) => {
      if (!state.known) throw new DeviceNotFound(kind, deviceId)
      const body = await answer(client, state)
      return {
        ...body,
        windowStart: window.from.toISOString(),
        windowEnd: window.to.toISOString(),
        asOf: state.asOf.toISOString(),
      }
    },
    { kind, id: deviceId },
  )
}
