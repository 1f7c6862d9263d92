import type { Queryable } from './types.js'

export interface AssignmentRow {
  vehicleId: string
  meterId: string
  /** RFC 3339 UTC */
  validFrom: string
  validTo?: string | null
}

// Upsert by (vehicle, valid_from), then close every open assignment of these vehicles at the start of
// the vehicle's next one. Both statements are idempotent and independent of arrival order.
const UPSERT = `
  INSERT INTO vehicle_meter_assignments AS a (vehicle_id, meter_id, valid_from, valid_to)
  SELECT DISTINCT ON (t.vehicle_id, t.valid_from) t.vehicle_id, t.meter_id, t.valid_from, t.valid_to
  FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[]) WITH ORDINALITY
    AS t(vehicle_id, meter_id, valid_from, valid_to, n)
  ORDER BY t.vehicle_id, t.valid_from, t.n DESC
  ON CONFLICT (vehicle_id, valid_from) DO UPDATE SET
    meter_id = excluded.meter_id, valid_to = excluded.valid_to, updated_at = now()
  WHERE (a.meter_id, a.valid_to) IS DISTINCT FROM (excluded.meter_id, excluded.valid_to)`

const CLOSE_OPEN = `
  UPDATE vehicle_meter_assignments a SET valid_to = n.next_from, updated_at = now()
  FROM (
    SELECT vehicle_id, valid_from,
      lead(valid_from) OVER (PARTITION BY vehicle_id ORDER BY valid_from) AS next_from
    FROM vehicle_meter_assignments WHERE vehicle_id = ANY($1::text[])
  ) n
  WHERE a.vehicle_id = n.vehicle_id AND a.valid_from = n.valid_from
    AND a.valid_to IS NULL AND n.next_from IS NOT NULL`

/** Applies assignments (the last one wins for a repeated (vehicle, validFrom)); call inside a transaction. */
export async function upsertAssignments(db: Queryable, rows: readonly AssignmentRow[]): Promise<void> {
  if (rows.length === 0) return
  await db.query(UPSERT, [
    rows.map((r) => r.vehicleId),
    rows.map((r) => r.meterId),
    rows.map((r) => r.validFrom),
    rows.map((r) => r.validTo ?? null),
  ])
  await db.query(CLOSE_OPEN, [[...new Set(rows.map((r) => r.vehicleId))]])
}
