import { resolveTimeline, type SentAssignment, type TimelineInterval } from './assignment-timeline.js'
import { LOCK_NAMESPACE, LOCKS } from './locks.js'
import type { Queryable } from './types.js'

export interface AssignmentRow {
  vehicleId: string
  meterId: string
  /** RFC 3339 UTC */
  validFrom: string
  validTo?: string | null
}

// Fixed-width UTC text, which sorts as the instants compare (assignment-timeline.ts).
const UTC_TEXT = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`
const utcText = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', ${UTC_TEXT})`

// Records what was sent, the last row per (vehicle, valid_from) winning, each after every assignment
// already applied to its vehicle (seq). A row sent again is applied again: it moves to the end.
const RECORD = `
  INSERT INTO vehicle_meter_assignment_log AS l (vehicle_id, valid_from, meter_id, valid_to, seq)
  SELECT DISTINCT ON (t.vehicle_id, t.valid_from) t.vehicle_id, t.valid_from, t.meter_id, t.valid_to,
    COALESCE((SELECT max(x.seq) FROM vehicle_meter_assignment_log x WHERE x.vehicle_id = t.vehicle_id), 0) + t.n
  FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[]) WITH ORDINALITY
    AS t(vehicle_id, meter_id, valid_from, valid_to, n)
  ORDER BY t.vehicle_id, t.valid_from, t.n DESC
  ON CONFLICT (vehicle_id, valid_from) DO UPDATE SET
    meter_id = excluded.meter_id, valid_to = excluded.valid_to, seq = excluded.seq, updated_at = now()`

const READ_SENT = `
  SELECT vehicle_id, meter_id, ${utcText('valid_from')} AS valid_from, ${utcText('valid_to')} AS valid_to, seq::float8 AS seq
    FROM vehicle_meter_assignment_log WHERE vehicle_id = ANY($1::text[])`

const STORE_TIMELINE = `
  INSERT INTO vehicle_meter_assignments (vehicle_id, meter_id, valid_from, valid_to)
  SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[])`

/**
 * Applies assignments in the order given (the writer passes them in Kafka order) and recomputes the
 * timelines of their vehicles in vehicle_meter_assignments by the rules of resolveTimeline. Call inside
 * a transaction: the timeline is replaced as a whole, under a transaction-scoped lock.
 */
export async function upsertAssignments(db: Queryable, rows: readonly AssignmentRow[]): Promise<void> {
  if (rows.length === 0) return
  const vehicles = [...new Set(rows.map((r) => r.vehicleId))]
  await db.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_NAMESPACE, LOCKS.assignments])
  await db.query(RECORD, [
    rows.map((r) => r.vehicleId),
    rows.map((r) => r.meterId),
    rows.map((r) => r.validFrom),
    rows.map((r) => r.validTo ?? null),
  ])
  const { rows: sent } = await db.query<{
    vehicle_id: string
    meter_id: string
    valid_from: string
    valid_to: string | null
    seq: number
  }>(READ_SENT, [vehicles])
  const byVehicle = new Map<string, SentAssignment[]>()
  for (const s of sent) {
    const list = byVehicle.get(s.vehicle_id) ?? []
    list.push({ meterId: s.meter_id, validFrom: s.valid_from, validTo: s.valid_to, seq: s.seq })
    byVehicle.set(s.vehicle_id, list)
  }
  const timeline: (TimelineInterval & { vehicleId: string })[] = []
  for (const [vehicleId, list] of byVehicle) {
    for (const interval of resolveTimeline(list)) timeline.push({ vehicleId, ...interval })
  }
  await db.query('DELETE FROM vehicle_meter_assignments WHERE vehicle_id = ANY($1::text[])', [vehicles])
  await db.query(STORE_TIMELINE, [
    timeline.map((i) => i.vehicleId),
    timeline.map((i) => i.meterId),
    timeline.map((i) => i.from),
    timeline.map((i) => i.to),
  ])
}
