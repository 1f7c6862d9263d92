// Assignments as parts of the per-device statements (SQL text taking the placeholders of the
// statement's parameters).

/**
 * `r(id, f, t)`: the meters whose AC counts for vehicle `v` in the window [`from`, `to`): each interval
 * of its timeline (which never overlaps) clipped to the window. Before the vehicle's first assignment
 * (or with none), it is paired with the meter of the same id, if that meter has readings (one id for
 * both is a common convention).
 */
export const vehicleMeterRangesSql = (v: string, from: string, to: string) => `
     SELECT a.meter_id AS id, GREATEST(a.valid_from, ${from}::timestamptz) AS f,
            LEAST(COALESCE(a.valid_to, 'infinity'), ${to}::timestamptz) AS t
       FROM vehicle_meter_assignments a
      WHERE a.vehicle_id = ${v} AND a.valid_from < ${to}::timestamptz
        AND (a.valid_to IS NULL OR a.valid_to > ${from}::timestamptz)
     UNION ALL
     SELECT m.meter_id, ${from}::timestamptz, LEAST(${to}::timestamptz, first.valid_from)
       FROM meter_live m,
            LATERAL (SELECT COALESCE(min(x.valid_from), 'infinity') AS valid_from
                       FROM vehicle_meter_assignments x WHERE x.vehicle_id = ${v}) first
      WHERE m.meter_id = ${v} AND first.valid_from > ${from}::timestamptz`

/** Vehicles assigned to meter `m` at some point of the window (or paired with it by id before then). */
export const meterVehicleIdsSql = (m: string, from: string, to: string) => `
     SELECT DISTINCT vehicle_id FROM (
       SELECT vehicle_id FROM vehicle_meter_assignments
        WHERE meter_id = ${m} AND valid_from < ${to}::timestamptz
          AND (valid_to IS NULL OR valid_to > ${from}::timestamptz)
       UNION ALL
       SELECT v.vehicle_id FROM vehicle_live v
        WHERE v.vehicle_id = ${m}
          AND NOT EXISTS (SELECT 1 FROM vehicle_meter_assignments x
                           WHERE x.vehicle_id = ${m} AND x.valid_from <= ${from}::timestamptz)
     ) ids ORDER BY vehicle_id LIMIT 1000`

/** The distinct meter ids of a vehicle's ranges, sorted (as every answer lists them). */
export const meterIdsOf = (ids: string[] | null) => [...new Set(ids ?? [])].sort()
