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
import type { DeviceRange, Range } from './window.js'

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

// One range scan per piece, each with its own parameters, so PostgreSQL prunes partitions and picks
// the primary-key range scan when it plans the statement (an unnest + LATERAL form would keep every
// partition in the plan, pruned only at run time). Piece counts are small: 1-2 per (device, range),
// plus about 2 a day for day buckets in a half-hour zone.

/** One kind's series: its two range scans, the aggregate over them and the row each bucket becomes. */
interface Block<T> {
  rollup: (id: string, lo: string, hi: string) => string
  history: (id: string, lo: string, hi: string) => string
  aggregate: string
  bucket: (r: Record<string, unknown>) => T
}

const METER: Block<MeterBucket> = {
  rollup: (id, lo, hi) => `
    SELECT hour AS t, readings AS n, kwh_consumed_ac_sum AS kwh, voltage_sum AS vsum, voltage_min AS vmin,
           voltage_max AS vmax
      FROM meter_hourly WHERE meter_id = ${id} AND hour >= ${lo}::timestamptz AND hour < ${hi}::timestamptz`,
  history: (id, lo, hi) => `
    SELECT ts AS t, 1 AS n, kwh_consumed_ac AS kwh, voltage AS vsum, voltage AS vmin, voltage AS vmax
      FROM meter_history WHERE meter_id = ${id} AND ts >= ${lo}::timestamptz AND ts < ${hi}::timestamptz`,
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
  rollup: (id, lo, hi) => `
    SELECT hour AS t, readings AS n, kwh_delivered_dc_sum AS kwh, battery_temp_sum AS tsum,
           battery_temp_max AS tmax, first_ts, first_soc, last_ts, last_soc
      FROM vehicle_hourly WHERE vehicle_id = ${id} AND hour >= ${lo}::timestamptz AND hour < ${hi}::timestamptz`,
  history: (id, lo, hi) => `
    SELECT ts AS t, 1 AS n, kwh_delivered_dc AS kwh, battery_temp AS tsum, battery_temp AS tmax,
           ts AS first_ts, soc AS first_soc, ts AS last_ts, soc AS last_soc
      FROM vehicle_history WHERE vehicle_id = ${id} AND ts >= ${lo}::timestamptz AND ts < ${hi}::timestamptz`,
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

/** The statement and its parameters ($1 = the bucket starts), or undefined when nothing is read. */
function seriesStatement(
  block: Block<unknown>,
  starts: number[],
  plan: SeriesPlan,
): { text: string; values: unknown[] } | undefined {
  const values: unknown[] = [starts.map((s) => new Date(s).toISOString())]
  const param = (v: string) => {
    values.push(v)
    return `$${values.length}`
  }
  const parts: string[] = []
  const add = (pieces: Pieces, sql: Block<unknown>['rollup']) => {
    for (let i = 0; i < pieces.ids.length; i++)
      parts.push(sql(param(pieces.ids[i]!), param(pieces.from[i]!), param(pieces.to[i]!)))
  }
  add(plan.rollup, block.rollup)
  add(plan.history, block.history)
  if (parts.length === 0) return undefined
  return {
    text: `SELECT width_bucket(p.t, $1::timestamptz[]) AS b, ${block.aggregate}
  FROM (${parts.join('\n    UNION ALL')}) p
 GROUP BY 1 ORDER BY 1`,
    values,
  }
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

/** `block`'s aggregates per bucket over one or more (device, range) pairs. */
async function kindSeries<T>(
  client: pg.ClientBase,
  block: Block<T>,
  ranges: DeviceRange[],
  starts: number[],
  closedBefore: number,
): Promise<Map<number, T>> {
  const statement = seriesStatement(block, starts, planSeries(ranges, starts, closedBefore))
  if (statement === undefined) return new Map()
  const { rows } = await client.query(statement.text, statement.values)
  return byBucket(rows, block.bucket)
}

/** Meter aggregates per bucket over one or more (meter, range) pairs (e.g. a vehicle's assignments). */
export const meterSeries = (
  client: pg.ClientBase,
  ranges: DeviceRange[],
  starts: number[],
  closedBefore: number,
) => kindSeries(client, METER, ranges, starts, closedBefore)

export const vehicleSeries = (
  client: pg.ClientBase,
  vehicleId: string,
  window: Range,
  starts: number[],
  closedBefore: number,
) => kindSeries(client, VEHICLE, [{ deviceId: vehicleId, range: window }], starts, closedBefore)

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
