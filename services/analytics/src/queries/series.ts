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
import { fromColumns } from './columns.js'
import { planMinutes } from './fleet.js'
import { stateCteSql } from './snapshot.js'
import {
  deviceCtes,
  fromPlanCte,
  fromPlanRow,
  METER_IDS_COLUMN,
  METER_RANGES_CTES,
  type Parts,
} from './device-aggregates.js'
import { type DeviceRange, type Range } from './window.js'

const HOUR = 3_600_000

/** Pieces as parallel arrays: device ids, range starts and ends (RFC 3339 UTC). */
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

/** One kind's series: its two range scans, the aggregate over them and the row each bucket becomes. */
interface Block<T> {
  /** Its rows of `id` in [lo, hi), and `also` (more conditions, `AND …`). */
  rollup: (id: string, lo: string, hi: string, also?: string) => string
  history: (id: string, lo: string, hi: string, also?: string) => string
  aggregate: string
  bucket: (r: Record<string, unknown>) => T
}

const METER: Block<MeterBucket> = {
  rollup: (id, lo, hi, also = '') => `
    SELECT hour AS t, readings AS n, kwh_consumed_ac_sum AS kwh, voltage_sum AS vsum, voltage_min AS vmin,
           voltage_max AS vmax
      FROM meter_hourly WHERE meter_id = ${id} AND hour >= ${lo}::timestamptz AND hour < ${hi}::timestamptz ${also}`,
  history: (id, lo, hi, also = '') => `
    SELECT ts AS t, 1 AS n, kwh_consumed_ac AS kwh, voltage AS vsum, voltage AS vmin, voltage AS vmax
      FROM meter_history WHERE meter_id = ${id} AND ts >= ${lo}::timestamptz AND ts < ${hi}::timestamptz ${also}`,
  aggregate: `sum(p.n)::int AS readings, sum(p.kwh)::text AS kwh, sum(p.vsum)::text AS vsum,
       min(p.vmin)::text AS vmin, max(p.vmax)::text AS vmax`,
  bucket: fromColumns<MeterBucket>({
    readings: 'readings',
    kwh: 'kwh',
    voltageSum: 'vsum',
    voltageMin: 'vmin',
    voltageMax: 'vmax',
  }),
}

const VEHICLE: Block<VehicleBucket> = {
  rollup: (id, lo, hi, also = '') => `
    SELECT hour AS t, readings AS n, kwh_delivered_dc_sum AS kwh, battery_temp_sum AS tsum,
           battery_temp_max AS tmax, first_ts, first_soc, last_ts, last_soc
      FROM vehicle_hourly WHERE vehicle_id = ${id} AND hour >= ${lo}::timestamptz AND hour < ${hi}::timestamptz ${also}`,
  history: (id, lo, hi, also = '') => `
    SELECT ts AS t, 1 AS n, kwh_delivered_dc AS kwh, battery_temp AS tsum, battery_temp AS tmax,
           ts AS first_ts, soc AS first_soc, ts AS last_ts, soc AS last_soc
      FROM vehicle_history WHERE vehicle_id = ${id} AND ts >= ${lo}::timestamptz AND ts < ${hi}::timestamptz ${also}`,
  aggregate: `sum(p.n)::int AS readings, sum(p.kwh)::text AS kwh, sum(p.tsum)::text AS tsum,
       max(p.tmax)::text AS tmax,
       ((array_agg(p.first_soc ORDER BY p.first_ts))[1])::text AS first_soc,
       ((array_agg(p.last_soc ORDER BY p.last_ts DESC))[1])::text AS last_soc`,
  bucket: fromColumns<VehicleBucket>({
    readings: 'readings',
    kwh: 'kwh',
    tempSum: 'tsum',
    tempMax: 'tmax',
    firstSoc: 'first_soc',
    lastSoc: 'last_soc',
  }),
}

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

/** One entry per bucket (index i = bucket i); buckets without readings are absent. */
function byBucket<T>(
  rows: Record<string, unknown>[],
  map: (r: Record<string, unknown>) => T,
): Map<number, T> {
  const out = new Map<number, T>()
  for (const r of rows) out.set((r.b as number) - 1, map(r))
  return out
}

// One statement per device series. It plans in SQL what planSeries plans in JS (a test holds the two
// equal): the window's parts from the watermark (planSql), then, inside the rollup part, the hours a
// bucket boundary cuts, which are read from history instead. Every scan is also bounded by the
// request's window ($2, $3): parameters, so the months outside it are pruned before execution.

/** Whether a bucket boundary ($4, the bucket starts) falls strictly inside the hour starting at `h`. */
export const cut = (h: string) =>
  `width_bucket(${h}, $4::timestamptz[]) <> width_bucket(${h} + interval '1 hour' - interval '1 microsecond', $4::timestamptz[])`

/** The hours of [rf, rt) that a boundary cuts, adjacent ones merged: ranges (lo, hi). */
export const cutRanges = (rf: string, rt: string) => `
    SELECT min(h) AS lo, max(h) + interval '1 hour' AS hi
      FROM (SELECT h, h - (row_number() OVER (ORDER BY h)) * interval '1 hour' AS g
              FROM generate_series((${rf})::timestamptz, (${rt})::timestamptz - interval '1 hour', interval '1 hour') AS h
             WHERE ${cut('h')}) c
     GROUP BY g`

const WITHIN = (column: string) => `AND ${column} >= $2::timestamptz AND ${column} < $3::timestamptz`

/** One device's rows (t, …) of `block`, from its plan's columns (`col`: planSql's rf … h2t). */
function seriesParts(block: Block<unknown>, { device, col }: Parts): string {
  const history = (lo: string, hi: string) => block.history(device, lo, hi, WITHIN('ts'))
  return `${block.rollup(device, col('rf'), col('rt'), `AND NOT ${cut('hour')} ${WITHIN('hour')}`)}
    UNION ALL ${history(col('h1f'), col('h1t'))}
    UNION ALL ${history(col('h2f'), col('h2t'))}
    UNION ALL SELECT x.* FROM (${cutRanges(col('rf'), col('rt'))}) cr, LATERAL (${history('cr.lo', 'cr.hi')}) x`
}

/** `block`'s buckets as a JSON array of rows (b = bucket number, from 1), from rows `p` of `from`. */
const buckets = (block: Block<unknown>, from: string) =>
  `(SELECT COALESCE(json_agg(q ORDER BY q.b), '[]') FROM (
       SELECT width_bucket(p.t, $4::timestamptz[]) AS b, ${block.aggregate} FROM ${from} GROUP BY 1) q)`

/**
 * A vehicle's series ($1 vehicle, $2/$3 window, $4 bucket starts): the state (as_of, known), its
 * buckets (`v`), and those of the meters that count for it, each over its own range (`m`, `meter_ids`).
 */
export const VEHICLE_SERIES = {
  name: 'vehicle-series',
  text: `WITH ${deviceCtes('vehicle')}, ${METER_RANGES_CTES}
SELECT st.as_of, st.known, ${METER_IDS_COLUMN},
       ${buckets(VEHICLE, `(${seriesParts(VEHICLE, fromPlanCte('$1', 'vehicle_plan'))}) p`)} AS v,
       ${buckets(METER, `meter_plans mp, LATERAL (${seriesParts(METER, fromPlanRow('mp.meter_id', 'mp'))}) p`)} AS m
  FROM st`,
}

/** A meter's series ($1 meter, $2/$3 window, $4 bucket starts): the state and its buckets (`m`). */
export const METER_SERIES = {
  name: 'meter-series',
  text: `WITH ${deviceCtes('meter')}
SELECT st.as_of, st.known,
       ${buckets(METER, `(${seriesParts(METER, fromPlanCte('$1', 'meter_plan'))}) p`)} AS m
  FROM st`,
}

/** The bucket starts as the statements take them ($4, timestamptz[]). */
export const isoStarts = (starts: number[]) => starts.map((s) => new Date(s).toISOString())

/** A series statement's buckets (index i = bucket i; buckets without readings are absent). */
export const vehicleBuckets = (json: unknown) => byBucket(json as Record<string, unknown>[], VEHICLE.bucket)
export const meterBuckets = (json: unknown) => byBucket(json as Record<string, unknown>[], METER.bucket)

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
 * One statement, with the replica's freshness (`asOf`; null when it cannot tell).
 */
export async function fleetSeries(
  pool: pg.Pool,
  window: Range,
  starts: number[],
): Promise<{ asOf: Date | null; buckets: Map<number, FleetBucket> }> {
  const plan = planMinutes(window)
  const empty = new Date(0)
  const [e1, e2] = plan.edges
  const { rows } = await pool.query<{ as_of: Date | null; buckets: Record<string, unknown>[] }>({
    name: 'fleet-series',
    text: `WITH st AS (${stateCteSql()})
     SELECT st.as_of, (SELECT COALESCE(json_agg(q ORDER BY q.b), '[]') FROM (
       SELECT width_bucket(p.t, $1::timestamptz[]) AS b,
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
      GROUP BY 1) q) AS buckets
       FROM st`,
    values: [
      isoStarts(starts),
      plan.minutes?.from ?? empty,
      plan.minutes?.to ?? empty,
      e1?.from ?? empty,
      e1?.to ?? empty,
      e2?.from ?? empty,
      e2?.to ?? empty,
    ],
  })
  const row = rows[0]!
  return {
    asOf: row.as_of,
    buckets: byBucket(row.buckets, (r) => ({
      meterReadings: Number(r.mn),
      ac: r.ac as string,
      vehicleReadings: Number(r.vn),
      dc: r.dc as string,
      tempSum: r.tsum as string,
    })),
  }
}
