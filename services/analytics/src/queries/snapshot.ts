import { withReadSnapshot } from '@energy-ingest/db'
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

/** The replica's freshness (see SnapshotState.asOf), as one SQL expression. */
const AS_OF_SQL = `CASE WHEN pg_is_in_recovery()
             THEN GREATEST(pg_last_xact_replay_timestamp(), (SELECT beat_at FROM writer_heartbeat WHERE id = 1))
             ELSE now() END`

/** The snapshot's state: the watermarks and how fresh the replica is (no parameters). */
const STATE_SQL = `SELECT (SELECT (extract(epoch FROM closed_before) * 1000)::float8 FROM rollup_watermarks WHERE kind = 'meter') AS meter,
        (SELECT (extract(epoch FROM closed_before) * 1000)::float8 FROM rollup_watermarks WHERE kind = 'vehicle') AS vehicle,
        ${AS_OF_SQL} AS as_of`

/**
 * The state of a statement that answers on its own (one statement is one snapshot, so it needs no
 * transaction around it): a CTE body of one row, `meter_cb` and `vehicle_cb` (the watermarks as
 * timestamptz; 'epoch' when there is no row: everything from history), `as_of`, and, given a device,
 * `known`: whether the device `id` (a placeholder such as `$1`) has ever reported.
 */
export function stateCteSql(device?: { kind: 'meter' | 'vehicle'; id: string }): string {
  const known = device
    ? `,
         EXISTS (SELECT 1 FROM ${device.kind}_live WHERE ${device.kind}_id = ${device.id}) AS known`
    : ''
  return `SELECT COALESCE((SELECT closed_before FROM rollup_watermarks WHERE kind = 'meter'), 'epoch') AS meter_cb,
         COALESCE((SELECT closed_before FROM rollup_watermarks WHERE kind = 'vehicle'), 'epoch') AS vehicle_cb,
         ${AS_OF_SQL} AS as_of${known}`
}

type StateRow = { meter: number | null; vehicle: number | null; as_of: Date | null }

function stateOf(row: StateRow): SnapshotState {
  // A replica that has replayed nothing since it started and has no heartbeat row cannot tell.
  if (row.as_of === null) throw new FreshnessUnknown()
  return {
    // No watermark row: nothing is known to be complete, so everything comes from history.
    closedBefore: { meter: row.meter ?? 0, vehicle: row.vehicle ?? 0 },
    asOf: row.as_of,
  }
}

/** The state on its own, in one statement outside any transaction (whether kept answers still hold). */
export async function readState(pool: pg.Pool): Promise<SnapshotState> {
  const { rows } = await pool.query<StateRow>({ name: 'analytics-state', text: STATE_SQL })
  return stateOf(rows[0]!)
}

/**
 * Runs `fn` in one REPEATABLE READ READ ONLY transaction, so the watermark, the rollups and the
 * history it reads come from one snapshot (packages/db/README.md, "Consistency on the replica").
 * BEGIN and the state query go in one round trip, and the COMMIT runs after the answer is returned
 * (withReadSnapshot): two round trips fewer on every answer's path. For answers that take more than
 * one statement (the efficiency alerts); the others are one statement each (stateCteSql).
 */
export async function inSnapshot<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient, state: SnapshotState) => Promise<T>,
): Promise<T> {
  return withReadSnapshot<T, StateRow>(pool, STATE_SQL, (client, rows) => fn(client, stateOf(rows[0]!)))
}
