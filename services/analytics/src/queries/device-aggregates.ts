// Per-device aggregates over a window, combined from rollup and history parts (see window.ts). One
// SQL statement per call: a UNION ALL of index range scans, one group of three per (device, range),
// aggregated at the end. Values stay `numeric` until the edge, so sums are exact. The statements are
// named (prepared once per connection): planning them, pruning every monthly partition of each
// branch, cost more than running them on a 24 h window.
import type pg from 'pg'
import { vehicleMeterRangesSql } from './assignments.js'
import { planParams, planWindow, type Range } from './window.js'

export interface DeviceRange {
  deviceId: string
  range: Range
}

export interface MeterAggregate {
  readings: number
  kwh: string
  voltageSum: string | null
  voltageMin: string | null
  voltageMax: string | null
  firstTs: Date | null
  lastTs: Date | null
  /** Register readings flagged by the energy derivation (reset, placeholder, suspect). */
  resets: number
  placeholders: number
  suspects: number
}

export interface VehicleAggregate {
  readings: number
  kwh: string
  tempSum: string | null
  tempMin: string | null
  tempMax: string | null
  socMin: string | null
  socMax: string | null
  firstSoc: string | null
  lastSoc: string | null
  firstTs: Date | null
  lastTs: Date | null
}

function partsSql(k: number, block: (p: (i: number) => string) => string): string {
  const blocks: string[] = []
  for (let i = 0; i < k; i++) blocks.push(block((n) => `$${i * 7 + n}`))
  return blocks.join('\nUNION ALL\n')
}

const FLAGS = `('reset' = ANY (energy_flags))::int, ('placeholder' = ANY (energy_flags))::int,
         ('suspect' = ANY (energy_flags))::int`

const meterBlock = (p: (i: number) => string) => `
  SELECT readings::bigint AS n, kwh_consumed_ac_sum AS kwh, voltage_sum AS vsum, voltage_min AS vmin,
         voltage_max AS vmax, first_ts, last_ts, energy_resets AS fr, energy_placeholders AS fp,
         energy_suspects AS fs
    FROM meter_hourly WHERE meter_id = ${p(1)} AND hour >= ${p(2)}::timestamptz AND hour < ${p(3)}::timestamptz
  UNION ALL
  SELECT 1, kwh_consumed_ac, voltage, voltage, voltage, ts, ts, ${FLAGS}
    FROM meter_history WHERE meter_id = ${p(1)} AND ts >= ${p(4)}::timestamptz AND ts < ${p(5)}::timestamptz
  UNION ALL
  SELECT 1, kwh_consumed_ac, voltage, voltage, voltage, ts, ts, ${FLAGS}
    FROM meter_history WHERE meter_id = ${p(1)} AND ts >= ${p(6)}::timestamptz AND ts < ${p(7)}::timestamptz`

const vehicleBlock = (p: (i: number) => string) => `
  SELECT readings::bigint AS n, kwh_delivered_dc_sum AS kwh, battery_temp_sum AS tsum, battery_temp_min AS tmin,
         battery_temp_max AS tmax, soc_min AS smin, soc_max AS smax, first_ts, first_soc, last_ts, last_soc
    FROM vehicle_hourly WHERE vehicle_id = ${p(1)} AND hour >= ${p(2)}::timestamptz AND hour < ${p(3)}::timestamptz
  UNION ALL
  SELECT 1, kwh_delivered_dc, battery_temp, battery_temp, battery_temp, soc, soc, ts, soc, ts, soc
    FROM vehicle_history WHERE vehicle_id = ${p(1)} AND ts >= ${p(4)}::timestamptz AND ts < ${p(5)}::timestamptz
  UNION ALL
  SELECT 1, kwh_delivered_dc, battery_temp, battery_temp, battery_temp, soc, soc, ts, soc, ts, soc
    FROM vehicle_history WHERE vehicle_id = ${p(1)} AND ts >= ${p(6)}::timestamptz AND ts < ${p(7)}::timestamptz`

const sqlCache = new Map<string, string>()

export function meterAggregateSql(k: number): string {
  const key = `meter:${k}`
  let sql = sqlCache.get(key)
  if (sql === undefined) {
    sql = `SELECT COALESCE(sum(n), 0)::int AS readings, COALESCE(sum(kwh), 0)::text AS kwh,
       sum(vsum)::text AS voltage_sum, min(vmin)::text AS voltage_min, max(vmax)::text AS voltage_max,
       min(first_ts) AS first_ts, max(last_ts) AS last_ts, COALESCE(sum(fr), 0)::int AS resets,
       COALESCE(sum(fp), 0)::int AS placeholders, COALESCE(sum(fs), 0)::int AS suspects
  FROM (${partsSql(k, meterBlock)}) parts`
    sqlCache.set(key, sql)
  }
  return sql
}

export function vehicleAggregateSql(k: number): string {
  const key = `vehicle:${k}`
  let sql = sqlCache.get(key)
  if (sql === undefined) {
    sql = `SELECT COALESCE(sum(n), 0)::int AS readings, COALESCE(sum(kwh), 0)::text AS kwh,
       sum(tsum)::text AS temp_sum, min(tmin)::text AS temp_min, max(tmax)::text AS temp_max,
       min(smin)::text AS soc_min, max(smax)::text AS soc_max,
       ((array_agg(first_soc ORDER BY first_ts))[1])::text AS first_soc,
       ((array_agg(last_soc ORDER BY last_ts DESC))[1])::text AS last_soc,
       min(first_ts) AS first_ts, max(last_ts) AS last_ts
  FROM (${partsSql(k, vehicleBlock)}) parts`
    sqlCache.set(key, sql)
  }
  return sql
}

function params(ranges: DeviceRange[], closedBefore: number): unknown[] {
  return ranges.flatMap(({ deviceId, range }) => [deviceId, ...planParams(planWindow(range, closedBefore))])
}

/** Meter aggregate over one or more (meter, range) pairs, e.g. a vehicle's assignments. */
export async function meterAggregate(
  client: pg.ClientBase,
  ranges: DeviceRange[],
  closedBefore: number,
): Promise<MeterAggregate> {
  if (ranges.length === 0) {
    return {
      readings: 0,
      kwh: '0',
      voltageSum: null,
      voltageMin: null,
      voltageMax: null,
      firstTs: null,
      lastTs: null,
      resets: 0,
      placeholders: 0,
      suspects: 0,
    }
  }
  const { rows } = await client.query({
    name: `meter-aggregate-${ranges.length}`,
    text: meterAggregateSql(ranges.length),
    values: params(ranges, closedBefore),
  })
  const r = rows[0] as Record<string, unknown>
  return {
    readings: r.readings as number,
    kwh: r.kwh as string,
    voltageSum: r.voltage_sum as string | null,
    voltageMin: r.voltage_min as string | null,
    voltageMax: r.voltage_max as string | null,
    firstTs: r.first_ts as Date | null,
    lastTs: r.last_ts as Date | null,
    resets: r.resets as number,
    placeholders: r.placeholders as number,
    suspects: r.suspects as number,
  }
}

export async function vehicleAggregate(
  client: pg.ClientBase,
  vehicleId: string,
  range: Range,
  closedBefore: number,
): Promise<VehicleAggregate> {
  const { rows } = await client.query({
    name: 'vehicle-aggregate-1',
    text: vehicleAggregateSql(1),
    values: params([{ deviceId: vehicleId, range }], closedBefore),
  })
  return vehicleAggregateOf(rows[0] as Record<string, unknown>)
}

/**
 * A vehicle's aggregate and the meter ranges that count for it in the window, in one statement (one
 * round trip): the ranges ride along as a JSON column of [meter_id, from, to].
 */
export async function vehicleAggregateWithMeters(
  client: pg.ClientBase,
  vehicleId: string,
  range: Range,
  closedBefore: number,
): Promise<{ vehicle: VehicleAggregate; meterRanges: DeviceRange[] }> {
  const { rows } = await client.query({
    name: 'vehicle-aggregate-with-meters',
    text: VEHICLE_WITH_METERS_SQL,
    values: [...params([{ deviceId: vehicleId, range }], closedBefore), range.from, range.to],
  })
  const r = rows[0] as Record<string, unknown>
  const ranges = r.meter_ranges as [string, string, string][]
  return {
    vehicle: vehicleAggregateOf(r),
    meterRanges: ranges.map(([deviceId, from, to]) => ({
      deviceId,
      range: { from: new Date(from), to: new Date(to) },
    })),
  }
}

const VEHICLE_WITH_METERS_SQL = `SELECT agg.*, (
    SELECT COALESCE(json_agg(json_build_array(m.meter_id, m.f, m.t) ORDER BY m.f, m.meter_id), '[]')
      FROM (${vehicleMeterRangesSql('$1', '$8', '$9')}) m
  ) AS meter_ranges
  FROM (${vehicleAggregateSql(1)}) agg`

function vehicleAggregateOf(r: Record<string, unknown>): VehicleAggregate {
  return {
    readings: r.readings as number,
    kwh: r.kwh as string,
    tempSum: r.temp_sum as string | null,
    tempMin: r.temp_min as string | null,
    tempMax: r.temp_max as string | null,
    socMin: r.soc_min as string | null,
    socMax: r.soc_max as string | null,
    firstSoc: r.first_soc as string | null,
    lastSoc: r.last_soc as string | null,
    firstTs: r.first_ts as Date | null,
    lastTs: r.last_ts as Date | null,
  }
}
