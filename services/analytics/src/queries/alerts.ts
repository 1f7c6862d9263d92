// Vehicles whose efficiency (DC delivered / AC consumed) over the last 24 closed hours is below a
// threshold. Read from hourly rollups only, so the cost is bounded by (devices x 24 hours) of
// index-only reads, whatever the history size. A meter hour counts for a vehicle when the hour starts
// inside one of the vehicle's assignments, or before its first one for the meter of the same id
// (hour-granular clipping; the per-vehicle performance route clips exactly).
import type pg from 'pg'

export interface AlertRow {
  vehicleId: string
  efficiencyRatio: number
  totalDcDelivered: number
  totalAcConsumed: number
}

const HOUR_MS = 3_600_000

/** The 24 whole hours ending at the older of the two watermarks (and never after the current hour). */
export function alertsWindow(
  closedBefore: { meter: number; vehicle: number },
  nowMs: number,
): { from: Date; to: Date } {
  const end = Math.min(closedBefore.meter, closedBefore.vehicle, Math.floor(nowMs / HOUR_MS) * HOUR_MS)
  return { from: new Date(end - 24 * HOUR_MS), to: new Date(end) }
}

const EFFICIENCY_CTE = `
WITH dc AS (
  SELECT vehicle_id, sum(kwh_delivered_dc_sum) AS dc
    FROM vehicle_hourly WHERE hour >= $1::timestamptz AND hour < $2::timestamptz
   GROUP BY vehicle_id
), pairs AS (
  SELECT a.vehicle_id, a.meter_id, GREATEST(a.valid_from, $1::timestamptz) AS pf,
         LEAST(COALESCE(a.valid_to, 'infinity'), $2::timestamptz) AS pt
    FROM vehicle_meter_assignments a
   WHERE a.valid_from < $2::timestamptz AND (a.valid_to IS NULL OR a.valid_to > $1::timestamptz)
  UNION ALL
  SELECT d.vehicle_id, d.vehicle_id, $1::timestamptz,
         LEAST($2::timestamptz, (SELECT COALESCE(min(x.valid_from), 'infinity') FROM vehicle_meter_assignments x
                                  WHERE x.vehicle_id = d.vehicle_id))
    FROM dc d
   WHERE NOT EXISTS (SELECT 1 FROM vehicle_meter_assignments x
                      WHERE x.vehicle_id = d.vehicle_id AND x.valid_from <= $1::timestamptz)
), ac AS (
  SELECT p.vehicle_id, sum(h.kwh_consumed_ac_sum) AS ac
    FROM pairs p JOIN meter_hourly h
      ON h.meter_id = p.meter_id AND h.hour >= p.pf AND h.hour < p.pt
     AND h.hour >= $1::timestamptz AND h.hour < $2::timestamptz
   GROUP BY p.vehicle_id
), eff AS (
  SELECT dc.vehicle_id, dc.dc, ac.ac, dc.dc / ac.ac AS ratio
    FROM dc JOIN ac USING (vehicle_id)
   WHERE ac.ac > 0 AND dc.dc < $3::numeric * ac.ac
)`

/** Every vehicle below `below` in the window, worst first (lowest ratio), then by vehicle id. */
export async function efficiencyAlerts(
  client: pg.ClientBase,
  window: { from: Date; to: Date },
  below: number,
): Promise<AlertRow[]> {
  const { rows } = await client.query<{ vehicle_id: string; dc: string; ac: string }>(
    `${EFFICIENCY_CTE}
     SELECT vehicle_id, dc::text AS dc, ac::text AS ac FROM eff ORDER BY ratio, vehicle_id`,
    [window.from, window.to, String(below)],
  )
  return rows.map((r) => ({
    vehicleId: r.vehicle_id,
    efficiencyRatio: Number(r.dc) / Number(r.ac),
    totalDcDelivered: Number(r.dc),
    totalAcConsumed: Number(r.ac),
  }))
}
