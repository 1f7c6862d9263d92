// Vehicles whose efficiency (DC delivered / AC consumed) over the last 24 closed hours is below a
// threshold, read from hourly rollups only. A meter hour counts for a vehicle when the hour starts
// inside one of the vehicle's assignments, or before its first one for the meter of the same id
// (hour-granular clipping; the per-vehicle performance route clips exactly).
//
// The reads here serve an incremental computation (alerts-cache.ts): each hour's per-vehicle DC and AC
// is read once, and again only when that hour's version moves; versions come from the fleet hour
// rollups (their `changes` count every write folded into an hour) and from the assignments' version.
import type pg from 'pg'
import { parseScaledDecimal, type ScaledDecimal } from '@energy-ingest/db'

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

/** What the per-hour reads depend on: a version per hour, and the versions of the whole. */
export interface AlertVersions {
  /** Per hour (ms): meter and vehicle fleet changes of that hour, `"<meter>:<vehicle>"`. */
  hours: Map<number, string>
  /**
   * The assignments' version and the number of vehicles (a new vehicle can pair with the meter of its
   * own id in any hour): when this moves, every hour is read again.
   */
  global: string
}

export async function readAlertVersions(
  client: pg.ClientBase,
  window: { from: Date; to: Date },
): Promise<AlertVersions> {
  const { rows } = await client.query<{ hour: number; version: string; global: string }>(
    `SELECT (extract(epoch FROM h.hour) * 1000)::float8 AS hour,
            COALESCE(m.c, 0)::text || ':' || COALESCE(v.c, 0)::text AS version,
            (SELECT version FROM assignments_version)::text || ':' ||
              (SELECT count(*) FROM vehicle_live)::text AS global
       FROM generate_series($1::timestamptz, $2::timestamptz - interval '1 hour', interval '1 hour') AS h(hour)
       LEFT JOIN (SELECT hour, sum(changes) AS c FROM meter_fleet_hourly
                   WHERE hour >= $1::timestamptz AND hour < $2::timestamptz GROUP BY hour) m USING (hour)
       LEFT JOIN (SELECT hour, sum(changes) AS c FROM vehicle_fleet_hourly
                   WHERE hour >= $1::timestamptz AND hour < $2::timestamptz GROUP BY hour) v USING (hour)`,
    [window.from, window.to],
  )
  return { hours: new Map(rows.map((r) => [r.hour, r.version])), global: rows[0]?.global ?? '' }
}

/** One vehicle's DC delivered and AC consumed in one hour (null: no rollup row behind it). */
export interface AlertCell {
  dc: ScaledDecimal | null
  ac: ScaledDecimal | null
}

/** Per hour (ms), per vehicle: the DC and AC the alerts sum. */
export async function readAlertHours(
  client: pg.ClientBase,
  hours: number[],
): Promise<Map<number, Map<string, AlertCell>>> {
  const result = new Map<number, Map<string, AlertCell>>(hours.map((h) => [h, new Map()]))
  if (hours.length === 0) return result
  const { rows } = await client.query<{
    hour: number
    vehicle_id: string
    dc: string | null
    ac: string | null
  }>(
    `WITH hours AS (
       SELECT unnest($1::timestamptz[]) AS hour
     ), dc AS (
       SELECT v.hour, v.vehicle_id, v.kwh_delivered_dc_sum AS dc FROM vehicle_hourly v
        WHERE v.hour = ANY ($1::timestamptz[])
     ), pairs AS (
       SELECT hs.hour, a.vehicle_id, a.meter_id
         FROM hours hs JOIN vehicle_meter_assignments a
           ON a.valid_from <= hs.hour AND (a.valid_to IS NULL OR a.valid_to > hs.hour)
       UNION ALL
       -- the meter of the vehicle's own id, in hours before the vehicle's first assignment
       SELECT m.hour, m.meter_id, m.meter_id
         FROM meter_hourly m
        WHERE m.hour = ANY ($1::timestamptz[])
          AND EXISTS (SELECT 1 FROM vehicle_live l WHERE l.vehicle_id = m.meter_id)
          AND NOT EXISTS (SELECT 1 FROM vehicle_meter_assignments x
                           WHERE x.vehicle_id = m.meter_id AND x.valid_from <= m.hour)
     ), ac AS (
       SELECT p.hour, p.vehicle_id, sum(h.kwh_consumed_ac_sum) AS ac
         FROM pairs p JOIN meter_hourly h ON h.meter_id = p.meter_id AND h.hour = p.hour
        WHERE h.hour = ANY ($1::timestamptz[])
        GROUP BY 1, 2
     )
     SELECT (extract(epoch FROM hour) * 1000)::float8 AS hour, vehicle_id, dc::text AS dc, ac::text AS ac
       FROM dc FULL JOIN ac USING (hour, vehicle_id)`,
    [hours.map((h) => new Date(h))],
  )
  for (const r of rows) {
    result.get(r.hour)?.set(r.vehicle_id, {
      dc: r.dc === null ? null : parseScaledDecimal(r.dc),
      ac: r.ac === null ? null : parseScaledDecimal(r.ac),
    })
  }
  return result
}
