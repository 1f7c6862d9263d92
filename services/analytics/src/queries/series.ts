// Time series: per-bucket aggregates over a window, exact like the per-window answers, in ONE
// statement per answer (frame, assignments and every kind's buckets). The whole hours of the window
// are read from `*_hourly` when no bucket boundary falls strictly inside them and they are closed
// (parts.ts); with `hour` or `day` buckets in a zone whose offset is a whole number of hours that is
// every closed hour of the window; `15m` buckets, and `hour` buckets in half-hour zones, split every
// hour, so they are read from history (bounded by the window and the point limit, not by the size of
// history).
//
// Rows are put in their bucket by `width_bucket(t, starts)`: `starts` is the ascending array of bucket
// starts, and an hourly row's `hour` lies in the same bucket as every reading of that hour.
import type pg from 'pg'
import { FreshnessUnknown } from '../errors.js'
import { vehicleMeterRangesSql } from './assignments.js'
import { deviceStatement, frameColumns, type Frame } from './device-window.js'
import { planMinutes } from './fleet.js'
import { aggregateColumns, hourRuns, oneRange, Params, partsSql, type Kind } from './parts.js'
import type { Range } from './window.js'

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

type Row = Frame & Record<string, unknown>

/** `SELECT bucket, aggregates … GROUP BY bucket` over the parts of `ranges`, columns prefixed. */
function bucketsSql(
  kind: Kind,
  x: string,
  ranges: string,
  window: Range,
  starts: string,
  runs: ReturnType<typeof hourRuns>,
  p: Params,
) {
  return `SELECT width_bucket(p.t, ${starts}::timestamptz[]) AS ${x}b, ${aggregateColumns(kind, x)}
          FROM (${partsSql(kind, ranges, window, runs, p)}) p GROUP BY 1`
}

const isoStarts = (starts: number[]) => starts.map((s) => new Date(s).toISOString())

/** One entry per bucket (index i = bucket i); buckets without readings are absent. */
function byBucket<T>(rows: Row[], column: string, map: (r: Row) => T): Map<number, T> {
  const out = new Map<number, T>()
  for (const r of rows) if (r[column] !== null) out.set((r[column] as number) - 1, map(r))
  return out
}

const meterBucket = (r: Row): MeterBucket => ({
  readings: r.m_readings as number,
  kwh: r.m_kwh as string,
  voltageSum: r.m_vsum as string | null,
  voltageMin: r.m_vmin as string | null,
  voltageMax: r.m_vmax as string | null,
})

/** A vehicle's buckets, and the buckets of the meters assigned to it (clipped to the assignments). */
export async function vehicleSeriesOf(pool: pg.Pool, vehicleId: string, window: Range, starts: number[]) {
  const p = new Params()
  const frame = frameColumns('vehicle', vehicleId, p)
  const [v, from, to, s] = [p.add(vehicleId), p.add(window.from), p.add(window.to), p.add(isoStarts(starts))]
  const runs = hourRuns(window, starts)
  const text = `WITH meter_ranges AS (${vehicleMeterRangesSql(v, from, to)})
SELECT f.*, b.* FROM (SELECT ${frame}, ARRAY(SELECT id FROM meter_ranges) AS meter_ids) f
  LEFT JOIN (
    (${bucketsSql('vehicle', 'v_', oneRange(p, vehicleId, window), window, s, runs, p)}) vb
    FULL JOIN (${bucketsSql('meter', 'm_', 'meter_ranges r', window, s, runs, p)}) mb ON mb.m_b = vb.v_b
  ) b ON true`
  const { rows, asOf } = await deviceStatement<Row>(pool, 'vehicle', vehicleId, { text, values: p.values })
  return {
    asOf,
    meterIds: rows[0]!.meter_ids as string[] | null,
    vehicle: byBucket(rows, 'v_b', (r): VehicleBucket => ({
      readings: r.v_readings as number,
      kwh: r.v_kwh as string,
      tempSum: r.v_tsum as string | null,
      tempMax: r.v_tmax as string | null,
      firstSoc: r.v_first_soc as string | null,
      lastSoc: r.v_last_soc as string | null,
    })),
    meter: byBucket(rows, 'm_b', meterBucket),
  }
}

export async function meterSeriesOf(pool: pg.Pool, meterId: string, window: Range, starts: number[]) {
  const p = new Params()
  const frame = frameColumns('meter', meterId, p)
  const s = p.add(isoStarts(starts))
  const runs = hourRuns(window, starts)
  const text = `SELECT f.*, b.* FROM (SELECT ${frame}) f
  LEFT JOIN (${bucketsSql('meter', 'm_', oneRange(p, meterId, window), window, s, runs, p)}) b ON true`
  const { rows, asOf } = await deviceStatement<Row>(pool, 'meter', meterId, { text, values: p.values })
  return { asOf, meter: byBucket(rows, 'm_b', meterBucket) }
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
 * One statement, with its freshness.
 */
export async function fleetSeriesOf(pool: pg.Pool, window: Range, starts: number[]) {
  const plan = planMinutes(window)
  const empty = new Date(0)
  const [e1, e2] = plan.edges
  const { rows } = await pool.query<{ as_of: Date | null } & Record<string, unknown>>(
    `SELECT f.as_of, b.* FROM (SELECT analytics_as_of() AS as_of) f LEFT JOIN (
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
      GROUP BY 1) b ON true`,
    [
      isoStarts(starts),
      plan.minutes?.from ?? empty,
      plan.minutes?.to ?? empty,
      e1?.from ?? empty,
      e1?.to ?? empty,
      e2?.from ?? empty,
      e2?.to ?? empty,
    ],
  )
  const asOf = rows[0]!.as_of
  if (asOf === null) throw new FreshnessUnknown()
  return {
    asOf,
    buckets: byBucket(rows as Row[], 'b', (r) => ({
      meterReadings: Number(r.mn),
      ac: r.ac as string,
      vehicleReadings: Number(r.vn),
      dc: r.dc as string,
      tempSum: r.tsum as string,
    })),
  }
}
