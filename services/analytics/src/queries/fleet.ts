// Fleet totals over a window: whole minutes from the fleet rollups (complete for every minute, summed
// over shards), the two partial edge minutes from history by time range (BRIN). Active devices: one
// row per device from the live tables, plus one index probe per device whose newest reading is past
// the window's end. Nothing reads a row per device-hour.
import type pg from 'pg'
import type { Range } from './window.js'

const MINUTE_MS = 60_000

export interface MinutePlan {
  minutes: Range | null
  edges: Range[]
}

export function planMinutes({ from, to }: Range): MinutePlan {
  const a = new Date(Math.ceil(from.getTime() / MINUTE_MS) * MINUTE_MS)
  const b = new Date(Math.floor(to.getTime() / MINUTE_MS) * MINUTE_MS)
  if (!(a.getTime() < b.getTime())) return { minutes: null, edges: [{ from, to }] }
  const edges: Range[] = []
  if (from.getTime() < a.getTime()) edges.push({ from, to: a })
  if (b.getTime() < to.getTime()) edges.push({ from: b, to })
  return { minutes: { from: a, to: b }, edges }
}

function planParams(plan: MinutePlan): Date[] {
  const empty = new Date(0)
  const [e1, e2] = plan.edges
  return [
    plan.minutes?.from ?? empty,
    plan.minutes?.to ?? empty,
    e1?.from ?? empty,
    e1?.to ?? empty,
    e2?.from ?? empty,
    e2?.to ?? empty,
  ]
}

export interface FleetTotals {
  meters: { active: number; readings: number; kwh: string }
  vehicles: { active: number; readings: number; kwh: string; tempSum: string }
}

export async function fleetTotals(client: pg.ClientBase, window: Range): Promise<FleetTotals> {
  const p = [...planParams(planMinutes(window)), window.from, window.to]
  const { rows } = await client.query<Record<string, string>>(
    `WITH m AS (
       SELECT readings AS n, kwh_consumed_ac_sum AS kwh FROM meter_fleet_minutely
        WHERE minute >= $1::timestamptz AND minute < $2::timestamptz
       UNION ALL SELECT 1, kwh_consumed_ac FROM meter_history WHERE ts >= $3::timestamptz AND ts < $4::timestamptz
       UNION ALL SELECT 1, kwh_consumed_ac FROM meter_history WHERE ts >= $5::timestamptz AND ts < $6::timestamptz
     ), v AS (
       SELECT readings AS n, kwh_delivered_dc_sum AS kwh, battery_temp_sum AS tsum FROM vehicle_fleet_minutely
        WHERE minute >= $1::timestamptz AND minute < $2::timestamptz
       UNION ALL SELECT 1, kwh_delivered_dc, battery_temp FROM vehicle_history WHERE ts >= $3::timestamptz AND ts < $4::timestamptz
       UNION ALL SELECT 1, kwh_delivered_dc, battery_temp FROM vehicle_history WHERE ts >= $5::timestamptz AND ts < $6::timestamptz
     )
     SELECT (SELECT COALESCE(sum(n), 0)::text FROM m) AS meter_readings,
            (SELECT COALESCE(sum(kwh), 0)::text FROM m) AS meter_kwh,
            (SELECT COALESCE(sum(n), 0)::text FROM v) AS vehicle_readings,
            (SELECT COALESCE(sum(kwh), 0)::text FROM v) AS vehicle_kwh,
            (SELECT COALESCE(sum(tsum), 0)::text FROM v) AS vehicle_temp_sum,
            (SELECT count(*) FILTER (WHERE l.ts < $8::timestamptz)
                  + count(*) FILTER (WHERE l.ts >= $8::timestamptz AND EXISTS (
                      SELECT 1 FROM meter_history h WHERE h.meter_id = l.meter_id AND h.ts >= $7::timestamptz AND h.ts < $8::timestamptz))
               FROM meter_live l WHERE l.ts >= $7::timestamptz)::text AS meters_active,
            (SELECT count(*) FILTER (WHERE l.ts < $8::timestamptz)
                  + count(*) FILTER (WHERE l.ts >= $8::timestamptz AND EXISTS (
                      SELECT 1 FROM vehicle_history h WHERE h.vehicle_id = l.vehicle_id AND h.ts >= $7::timestamptz AND h.ts < $8::timestamptz))
               FROM vehicle_live l WHERE l.ts >= $7::timestamptz)::text AS vehicles_active`,
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
