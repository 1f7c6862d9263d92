/**
 * The meters whose AC counts for a vehicle in a window: each interval of its timeline (which never
 * overlaps) clipped to the window. Before the vehicle's first assignment (or with none), it is paired
 * with the meter of the same id, if that meter has readings (one id for both is a common convention).
 * One row per (meter_id, f, t), unordered, with the placeholders given.
 */
export function vehicleMeterRangesSql(vehicle: string, from: string, to: string): string {
  return `SELECT a.meter_id, GREATEST(a.valid_from, ${from}::timestamptz) AS f,
            LEAST(COALESCE(a.valid_to, 'infinity'), ${to}::timestamptz) AS t
       FROM vehicle_meter_assignments a
      WHERE a.vehicle_id = ${vehicle} AND a.valid_from < ${to}::timestamptz
        AND (a.valid_to IS NULL OR a.valid_to > ${from}::timestamptz)
     UNION ALL
     SELECT m.meter_id, ${from}::timestamptz, LEAST(${to}::timestamptz, first.valid_from)
       FROM meter_live m,
            LATERAL (SELECT COALESCE(min(x.valid_from), 'infinity') AS valid_from
                       FROM vehicle_meter_assignments x WHERE x.vehicle_id = ${vehicle}) first
      WHERE m.meter_id = ${vehicle} AND first.valid_from > ${from}::timestamptz`
}

/**
 * The vehicles assigned to a meter at some point of the window (or paired with it by id before their
 * first assignment), at most 1,000, ordered: one row per vehicle (`vehicle_id`), placeholders given.
 */
export function meterVehicleIdsSql(meter: string, from: string, to: string): string {
  return `SELECT DISTINCT vehicle_id FROM (
       SELECT vehicle_id FROM vehicle_meter_assignments
        WHERE meter_id = ${meter} AND valid_from < ${to}::timestamptz
          AND (valid_to IS NULL OR valid_to > ${from}::timestamptz)
       UNION ALL
       SELECT v.vehicle_id FROM vehicle_live v
        WHERE v.vehicle_id = ${meter}
          AND NOT EXISTS (SELECT 1 FROM vehicle_meter_assignments x
                           WHERE x.vehicle_id = ${meter} AND x.valid_from <= ${from}::timestamptz)
     ) ids ORDER BY vehicle_id LIMIT 1000`
}
