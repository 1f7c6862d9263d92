import type pg from 'pg'
import { FreshnessUnknown } from '../errors.js'

export interface SnapshotState {
  /** Rollup watermarks (ms since epoch; Infinity in per-batch mode). */
  closedBefore: { meter: number; vehicle: number }
  /**
   * Everything the primary committed before this time is visible. On a replica: the later of the last
   * replayed commit and the replayed writer heartbeat (which survives a restart of the replica, when
   * pg_last_xact_replay_timestamp() is NULL until the next commit is replayed); on a primary: the
   * transaction's start.
   */
  asOf: Date
}

/**
 * Runs `fn` in one REPEATABLE READ READ ONLY transaction, so the watermark, the rollups and the
 * history it reads come from one snapshot (packages/db/README.md, "Consistency on the replica").
 */
export async function inSnapshot<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient, state: SnapshotState) => Promise<T>,
): Promise<T> {
  const client = await pool.connect()
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
    const { rows } = await client.query<{ meter: number | null; vehicle: number | null; as_of: Date | null }>(
      `SELECT (SELECT (extract(epoch FROM closed_before) * 1000)::float8 FROM rollup_watermarks WHERE kind = 'meter') AS meter,
              (SELECT (extract(epoch FROM closed_before) * 1000)::float8 FROM rollup_watermarks WHERE kind = 'vehicle') AS vehicle,
              CASE WHEN pg_is_in_recovery()
                   THEN GREATEST(pg_last_xact_replay_timestamp(), (SELECT beat_at FROM writer_heartbeat WHERE id = 1))
                   ELSE now() END AS as_of`,
    )
    const row = rows[0]!
    // A replica that has replayed nothing since it started and has no heartbeat row cannot tell.
    if (row.as_of === null) throw new FreshnessUnknown()
    const state: SnapshotState = {
      // No watermark row: nothing is known to be complete, so everything comes from history.
      closedBefore: { meter: row.meter ?? 0, vehicle: row.vehicle ?? 0 },
      asOf: row.as_of,
    }
    const result = await fn(client, state)
    await client.query('COMMIT')
    client.release()
    return result
  } catch (err) {
    if (hasSqlState(err)) {
      await client.query('ROLLBACK').catch(() => undefined)
      client.release()
    } else {
      // No answer from the server (a lost connection, pg's read timeout): the connection's state is
      // unknown, so it is closed rather than returned to the pool.
      client.release(err instanceof Error ? err : new Error(String(err)))
    }
    throw err
  }
}

/** An error the server sent (it has a five-character SQLSTATE): the connection itself is fine. */
function hasSqlState(err: unknown): boolean {
  const code = typeof err === 'object' && err !== null && 'code' in err ? err.code : undefined
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)
}
