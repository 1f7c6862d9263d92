// Time series: per-bucket aggregates over a window, exact like the per-window answers (window.ts),
// in one statement per kind. Each (device, range) is split into whole UTC hours read from `*_hourly`
// and the rest read from `*_history`: an hour comes from rollups when it lies inside the range,
// before the watermark, and no bucket boundary falls strictly inside it (so its row belongs to one
// bucket). With `hour` or `day` buckets in a zone whose offset is a whole number of hours that is every
// hour of the window but the partial ones at its ends and those after the watermark; `15m` buckets,
// and `hour` buckets in half-hour zones, split every hour, so they are read from history (bounded by
// the window and the point limit, not by the size of history).
//
// Rows are put in their bucket by `width_bucket(t, starts)`: `starts` is the ascending array of bucket
// starts, and an hourly row's `hour` lies in the same bucket as every reading of that hour.
import type pg from 'pg'
import type { DeviceRange } from './device-aggregates.js'
import { planMinutes } from './fleet.js'
import type { Range } from './window.js'

const HOUR = 3_600_000

/** Pieces as parallel arrays, the shape `unnest($ids, $from, $to)` takes. */
export interface Pieces {
  ids: string[]
  from: string[]
  to: string[]
}

export interface SeriesPlan {
  rollup: Pieces
  history: Pieces
}

const emptyPieces = (): Pieces => ({ ids: [], from: [], to: [] })
const push = (p: Pieces, id: string, from: number, to: number) => {
  // Adjacent pieces of one device merge into one range scan.
  const last = p.ids.length - 1
  if (last >= 0 && p.ids[last] === id && Date.parse(p.to[last]!) === from) {
    p.to[last] = new Date(to).toISOString()
    return
  }
  p.ids.push(id)
  p.from.push(new Date(from).toISOString())
  p.to.push(new Date(to).toISOString())
}

/**
 * Splits each (device, range) into hourly-rollup hours and history ranges. `boundaries` are the bucket
 * starts, ascending (UTC ms); `closedBefore` is the kind's watermark W.
 */
export function planSeries(ranges: DeviceRange[], boundaries: number[], closedBefore: number): SeriesPlan {
  const plan: SeriesPlan = { rollup: emptyPieces(), history: emptyPieces() }
  for (const { deviceId, range } of ranges) {
    const f = range.from.getTime()
    const t = range.to.getTime()
    if (!(f < t)) continue
    const a = Math.ceil(f / HOUR) * HOUR
    const b = Math.min(Math.floor(t / HOUR) * HOUR, closedBefore)
    let cursor = f // everything before `cursor` is planned
    let k = 0 // first boundary > h
    for (let h = a; h + HOUR <= b; h += HOUR) {
      while (k < boundaries.length && boundaries[k]! <= h) k++
      const split = k < boundaries.length && boundaries[k]! < h + HOUR
      if (split) continue
      if (cursor < h) push(plan.history, deviceId, cursor, h)
      push(plan.rollup, deviceId, h, h + HOUR)
      cursor = h + HOUR
    }
    if (cursor < t) push(plan.history, deviceId, cursor, t)
  }
  return plan
}

const METER_SERIES_SQL = `
SELECT width_bucket(p.t, $1::timestamptz[]) AS b, sum(p.n)::int AS readings, sum(p.kwh)::text AS kwh,
       sum(p.vsum)::text AS vsum, min(p.vmin)::text AS vmin, max(p.vmax)::text AS vmax
  FROM (
    SELECT h.hour AS t, h.readings AS n, h.kwh_consumed_ac_sum AS kwh, h.voltage_sum AS vsum,
           h.voltage_min AS vmin, h.voltage_max AS vmax
      FROM unnest($2::text[], $3::timestamptz[], $4::timestamptz[]) r(id, lo, hi)
      CROSS JOIN LATERAL (SELECT * FROM meter_hourly
                           WHERE meter_id = r.id AND hour >= r.lo AND hour < r.hi) h
    UNION ALL
    SELECT m.ts, 1, m.kwh_consumed_ac, m.voltage, m.voltage, m.voltage
      FROM unnest($5::text[], $6::timestamptz[], $7::timestamptz[]) r(id, lo, hi)
      CROSS JOIN LATERAL (SELECT * FROM meter_history
                           WHERE meter_id = r.id AND ts >= r.lo AND ts < r.hi) m
  ) p
 GROUP BY 1 ORDER BY 1`

const VEHICLE_SERIES_SQL = `
SELECT width_bucket(p.t, $1::timestamptz[]) AS b, sum(p.n)::int AS readings, sum(p.kwh)::text AS kwh,
       sum(p.tsum)::text AS tsum, max(p.tmax)::text AS tmax,
       ((array_agg(p.first_soc ORDER BY p.first_ts))[1])::text AS first_soc,
       ((array_agg(p.last_soc ORDER BY p.last_ts DESC))[1])::text AS last_soc
  FROM (
    SELECT h.hour AS t, h.readings AS n, h.kwh_delivered_dc_sum AS kwh, h.battery_temp_sum AS tsum,
           h.battery_temp_max AS tmax, h.first_ts, h.first_soc, h.last_ts, h.last_soc
      FROM unnest($2::text[], $3::timestamptz[], $4::timestamptz[]) r(id, lo, hi)
      CROSS JOIN LATERAL (SELECT * FROM vehicle_hourly
                           WHERE vehicle_id = r.id AND hour >= r.lo AND hour < r.hi) h
    UNION ALL
    SELECT v.ts, 1, v.kwh_delivered_dc, v.battery_temp, v.battery_temp, v.ts, v.soc, v.ts, v.soc
      FROM unnest($5::text[], $6::timestamptz[], $7::timestamptz[]) r(id, lo, hi)
      CROSS JOIN LATERAL (SELECT * FROM vehicle_history
                           WHERE vehicle_id = r.id AND ts >= r.lo AND ts < r.hi) v
  ) p
 GROUP BY 1 ORDER BY 1`

export interface MeterBucket {
  readings: number
  kwh: string
  voltageSum: string | null
  voltageMin: string | null
  voltageMax: string | null
}

export interface VehicleBucket {
  readings: number
  kwh: string
  tempSum: string | null
  tempMax: string | null
  firstSoc: string | null
  lastSoc: string | null
}

const planArgs = (starts: string[], plan: SeriesPlan) => [
  starts,
  plan.rollup.ids,
  plan.rollup.from,
  plan.rollup.to,
  plan.history.ids,
  plan.history.from,
  plan.history.to,
]

/** One entry per bucket (index i = bucket i); buckets without readings are absent. */
function byBucket<T>(
  rows: Record<string, unknown>[],
  map: (r: Record<string, unknown>) => T,
): Map<number, T> {
  const out = new Map<number, T>()
  for (const r of rows) out.set((r.b as number) - 1, map(r))
  return out
}

/** Meter aggregates per bucket over one or more (meter, range) pairs (e.g. a vehicle's assignments). */
export async function meterSeries(
  client: pg.ClientBase,
  ranges: DeviceRange[],
  starts: number[],
  closedBefore: number,
): Promise<Map<number, MeterBucket>> {
  const plan = planSeries(ranges, starts, closedBefore)
  if (plan.rollup.ids.length + plan.history.ids.length === 0) return new Map()
  const iso = starts.map((s) => new Date(s).toISOString())
  const { rows } = await client.query(METER_SERIES_SQL, planArgs(iso, plan))
  return byBucket(rows, (r) => ({
    readings: r.readings as number,
    kwh: r.kwh as string,
    voltageSum: r.vsum as string | null,
    voltageMin: r.vmin as string | null,
    voltageMax: r.vmax as string | null,
  }))
}

export async function vehicleSeries(
  client: pg.ClientBase,
  vehicleId: string,
  window: Range,
  starts: number[],
  closedBefore: number,
): Promise<Map<number, VehicleBucket>> {
  const plan = planSeries([{ deviceId: vehicleId, range: window }], starts, closedBefore)
  const iso = starts.map((s) => new Date(s).toISOString())
  const { rows } = await client.query(VEHICLE_SERIES_SQL, planArgs(iso, plan))
  return byBucket(rows, (r) => ({
    readings: r.readings as number,
    kwh: r.kwh as string,
    tempSum: r.tsum as string | null,
    tempMax: r.tmax as string | null,
    firstSoc: r.first_soc as string | null,
    lastSoc: r.last_soc as string | null,
  }))
}

export interface FleetBucket {
  meterReadings: number
  ac: string
  vehicleReadings: number
  dc: string
  tempSum: string
}

/**
 * Fleet totals per bucket, as the fleet summary computes them: whole minutes from the fleet minute
 * rollups (summed over shards), the partial minutes at the window's two ends from history. Bucket
 * boundaries are whole minutes (time-buckets.ts refuses others), so a minute row lies in one bucket.
 */
export async function fleetSeries(
  client: pg.ClientBase,
  window: Range,
  starts: number[],
): Promise<Map<number, FleetBucket>> {
  const plan = planMinutes(window)
  const empty = new Date(0)
  const [e1, e2] = plan.edges
  const { rows } = await client.query(
    `SELECT width_bucket(p.t, $1::timestamptz[]) AS b,
            COALESCE(sum(p.mn), 0)::text AS mn, COALESCE(sum(p.mkwh), 0)::text AS ac,
            COALESCE(sum(p.vn), 0)::text AS vn, COALESCE(sum(p.vkwh), 0)::text AS dc,
            COALESCE(sum(p.tsum), 0)::text AS tsum
       FROM (
         SELECT minute AS t, readings AS mn, kwh_consumed_ac_sum AS mkwh,
                NULL::bigint AS vn, NULL::numeric AS vkwh, NULL::numeric AS tsum
           FROM meter_fleet_minutely WHERE minute >= $2::timestamptz AND minute < $3::timestamptz
         UNION ALL
         SELECT minute, NULL, NULL, readings, kwh_delivered_dc_sum, battery_temp_sum
           FROM vehicle_fleet_minutely WHERE minute >= $2::timestamptz AND minute < $3::timestamptz
         UNION ALL
         SELECT ts, 1, kwh_consumed_ac, NULL, NULL, NULL
           FROM meter_history WHERE ts >= $4::timestamptz AND ts < $5::timestamptz
         UNION ALL
         SELECT ts, 1, kwh_consumed_ac, NULL, NULL, NULL
           FROM meter_history WHERE ts >= $6::timestamptz AND ts < $7::timestamptz
         UNION ALL
         SELECT ts, NULL, NULL, 1, kwh_delivered_dc, battery_temp
           FROM vehicle_history WHERE ts >= $4::timestamptz AND ts < $5::timestamptz
         UNION ALL
         SELECT ts, NULL, NULL, 1, kwh_delivered_dc, battery_temp
           FROM vehicle_history WHERE ts >= $6::timestamptz AND ts < $7::timestamptz
       ) p
      GROUP BY 1 ORDER BY 1`,
    [
      starts.map((s) => new Date(s).toISOString()),
      plan.minutes?.from ?? empty,
      plan.minutes?.to ?? empty,
      e1?.from ?? empty,
      e1?.to ?? empty,
      e2?.from ?? empty,
      e2?.to ?? empty,
    ],
  )
  return byBucket(rows, (r) => ({
    meterReadings: Number(r.mn),
    ac: r.ac as string,
    vehicleReadings: Number(r.vn),
    dc: r.dc as string,
    tempSum: r.tsum as string,
  }))
}
