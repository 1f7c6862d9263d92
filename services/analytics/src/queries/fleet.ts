// Fleet totals over a window, from the coarsest rollup that is complete for each part of it: whole
// hours from the fleet hour rollups, the partial edge hours by whole minutes from the fleet minute
// rollups (both summed over shards), the two partial edge minutes from history by time range (BRIN).
// A 24 h answer reads 24 hours x shards plus at most 2 x 59 minutes x shards, whatever the fleet size.
// Active devices: one row per device from the live tables, plus one index probe per device whose
// newest reading is past the window's end. Nothing reads a row per device-hour.
import type pg from 'pg'
import type { Range } from './window.js'

const MINUTE_MS = 60_000
const HOUR_MS = 3_600_000

/** A range split at `unit` boundaries: the aligned inside (null if none) and the unaligned edges. */
export interface AlignedSplit {
  inner: Range | null
  edges: Range[]
}

export function splitAligned({ from, to }: Range, unitMs: number): AlignedSplit {
  const a = new Date(Math.ceil(from.getTime() / unitMs) * unitMs)
  const b = new Date(Math.floor(to.getTime() / unitMs) * unitMs)
  if (!(a.getTime() < b.getTime())) return { inner: null, edges: [{ from, to }] }
  const edges: Range[] = []
  if (from.getTime() < a.getTime()) edges.push({ from, to: a })
  if (b.getTime() < to.getTime()) edges.push({ from: b, to })
  return { inner: { from: a, to: b }, edges }
}

export interface MinutePlan {
  minutes: Range | null
  edges: Range[]
}

/** Whole minutes inside the window, and its partial edge minutes. */
export function planMinutes(window: Range): MinutePlan {
  const { inner, edges } = splitAligned(window, MINUTE_MS)
  return { minutes: inner, edges }
}

/** Whole hours, then whole minutes of the partial edge hours, then the partial edge minutes. */
export interface FleetPlan {
  hours: Range | null
  minutes: Range[]
  edges: Range[]
}

export function planFleet(window: Range): FleetPlan {
  const byMinute = planMinutes(window)
  if (byMinute.minutes === null) return { hours: null, minutes: [], edges: byMinute.edges }
  const byHour = splitAligned(byMinute.minutes, HOUR_MS)
  return byHour.inner === null
    ? { hours: null, minutes: [byMinute.minutes], edges: byMinute.edges }
    : { hours: byHour.inner, minutes: byHour.edges, edges: byMinute.edges }
}

/** $1..$10: hours, minutes 1 and 2, edges 1 and 2 (an absent range is empty: [epoch, epoch)). */
function fleetPlanParams(plan: FleetPlan): Date[] {
  const empty = new Date(0)
  const range = (r: Range | null | undefined) => [r?.from ?? empty, r?.to ?? empty]
  return [
    ...range(plan.hours),
    ...range(plan.minutes[0]),
    ...range(plan.minutes[1]),
    ...range(plan.edges[0]),
    ...range(plan.edges[1]),
  ]
}

export interface FleetTotals {
  meters: { active: number; readings: number; kwh: string }
  vehicles: { active: number; readings: number; kwh: string; tempSum: string }
}

export async function fleetTotals(client: pg.ClientBase, window: Range): Promise<FleetTotals> {
  const p = [...fleetPlanParams(planFleet(window)), window.from, window.to]
  const { rows } = await client.query<Record<string, string>>(
    `WITH m AS (
       SELECT readings AS n, kwh_consumed_ac_sum AS kwh FROM meter_fleet_hourly
        WHERE hour >= $1::timestamptz AND hour < $2::timestamptz
       UNION ALL SELECT readings, kwh_consumed_ac_sum FROM meter_fleet_minutely
        WHERE minute >= $3::timestamptz AND minute < $4::timestamptz
       UNION ALL SELECT readings, kwh_consumed_ac_sum FROM meter_fleet_minutely
        WHERE minute >= $5::timestamptz AND minute < $6::timestamptz
       UNION ALL SELECT 1, kwh_consumed_ac FROM meter_history WHERE ts >= $7::timestamptz AND ts < $8::timestamptz
       UNION ALL SELECT 1, kwh_consumed_ac FROM meter_history WHERE ts >= $9::timestamptz AND ts < $10::timestamptz
     ), v AS (
       SELECT readings AS n, kwh_delivered_dc_sum AS kwh, battery_temp_sum AS tsum FROM vehicle_fleet_hourly
        WHERE hour >= $1::timestamptz AND hour < $2::timestamptz
       UNION ALL SELECT readings, kwh_delivered_dc_sum, battery_temp_sum FROM vehicle_fleet_minutely
        WHERE minute >= $3::timestamptz AND minute < $4::timestamptz
       UNION ALL SELECT readings, kwh_delivered_dc_sum, battery_temp_sum FROM vehicle_fleet_minutely
        WHERE minute >= $5::timestamptz AND minute < $6::timestamptz
       UNION ALL SELECT 1, kwh_delivered_dc, battery_temp FROM vehicle_history WHERE ts >= $7::timestamptz AND ts < $8::timestamptz
       UNION ALL SELECT 1, kwh_delivered_dc, battery_temp FROM vehicle_history WHERE ts >= $9::timestamptz AND ts < $10::timestamptz
     )
     SELECT (SELECT COALESCE(sum(n), 0)::text FROM m) AS meter_readings,
            (SELECT COALESCE(sum(kwh), 0)::text FROM m) AS meter_kwh,
            (SELECT COALESCE(sum(n), 0)::text FROM v) AS vehicle_readings,
            (SELECT COALESCE(sum(kwh), 0)::text FROM v) AS vehicle_kwh,
            (SELECT COALESCE(sum(tsum), 0)::text FROM v) AS vehicle_temp_sum,
            (SELECT count(*) FILTER (WHERE l.ts < $12::timestamptz)
                  + count(*) FILTER (WHERE l.ts >= $12::timestamptz AND EXISTS (
                      SELECT 1 FROM meter_history h WHERE h.meter_id = l.meter_id AND h.ts >= $11::timestamptz AND h.ts < $12::timestamptz))
               FROM meter_live l WHERE l.ts >= $11::timestamptz)::text AS meters_active,
            (SELECT count(*) FILTER (WHERE l.ts < $12::timestamptz)
                  + count(*) FILTER (WHERE l.ts >= $12::timestamptz AND EXISTS (
                      SELECT 1 FROM vehicle_history h WHERE h.vehicle_id = l.vehicle_id AND h.ts >= $11::timestamptz AND h.ts < $12::timestamptz))
               FROM vehicle_live l WHERE l.ts >= $11::timestamptz)::text AS vehicles_active`,
    p,
  )
  const r = rows[0]!
  return {
    meters: { active: Number(r.meters_active), readings: Number(r.meter_readings), kwh: r.meter_kwh! },
    vehicles: {
      active: Number(r.vehicles_active),
      readings: Number(r.vehicle_readings),
      kwh: r.vehicle_kwh!,
      tempSum: r.vehicle_temp_sum!,
    },
  }
}
