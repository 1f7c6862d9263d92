// The per-device window answers (performance, meter and vehicle summaries), each ONE statement: frame
// (device-window.ts), aggregates over rollup and history parts (parts.ts) and assignments. Values stay
// `numeric` until the edge, so sums are exact.
import type pg from 'pg'
import { meterVehicleIdsSql, vehicleMeterRangesSql } from './assignments.js'
import { deviceStatement, frameColumns, type Frame } from './device-window.js'
import { aggregateColumns, hourRuns, oneRange, Params, partsSql } from './parts.js'
import type { Range } from './window.js'

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

type Row = Frame & Record<string, unknown>

export function meterAggregateOf(r: Row, x = ''): MeterAggregate {
  return {
    readings: r[`${x}readings`] as number,
    kwh: r[`${x}kwh`] as string,
    voltageSum: r[`${x}vsum`] as string | null,
    voltageMin: r[`${x}vmin`] as string | null,
    voltageMax: r[`${x}vmax`] as string | null,
    firstTs: r[`${x}first_ts`] as Date | null,
    lastTs: r[`${x}last_ts`] as Date | null,
    resets: r[`${x}resets`] as number,
    placeholders: r[`${x}placeholders`] as number,
    suspects: r[`${x}suspects`] as number,
  }
}

export function vehicleAggregateOf(r: Row, x = ''): VehicleAggregate {
  return {
    readings: r[`${x}readings`] as number,
    kwh: r[`${x}kwh`] as string,
    tempSum: r[`${x}tsum`] as string | null,
    tempMin: r[`${x}tmin`] as string | null,
    tempMax: r[`${x}tmax`] as string | null,
    socMin: r[`${x}smin`] as string | null,
    socMax: r[`${x}smax`] as string | null,
    firstSoc: r[`${x}first_soc`] as string | null,
    lastSoc: r[`${x}last_soc`] as string | null,
    firstTs: r[`${x}first_ts`] as Date | null,
    lastTs: r[`${x}last_ts`] as Date | null,
  }
}

/** A vehicle's DC aggregate and the AC aggregate of the meters assigned to it, in one statement. */
export function performanceStatement(vehicleId: string, window: Range) {
  const p = new Params()
  const frame = frameColumns('vehicle', vehicleId, p)
  const [v, from, to] = [p.add(vehicleId), p.add(window.from), p.add(window.to)]
  const runs = hourRuns(window)
  const text = `WITH meter_ranges AS (${vehicleMeterRangesSql(v, from, to)})
SELECT ${frame}, ARRAY(SELECT id FROM meter_ranges) AS meter_ids, vagg.*, magg.*
  FROM (SELECT ${aggregateColumns('vehicle', 'v_')}
          FROM (${partsSql('vehicle', oneRange(p, vehicleId, window), window, runs, p)}) p) vagg,
       (SELECT ${aggregateColumns('meter', 'm_')}
          FROM (${partsSql('meter', 'meter_ranges r', window, runs, p)}) p) magg`
  return { text, values: p.values }
}

export async function performanceOf(pool: pg.Pool, vehicleId: string, window: Range) {
  const { rows, asOf } = await deviceStatement<Row>(
    pool,
    'vehicle',
    vehicleId,
    performanceStatement(vehicleId, window),
  )
  const r = rows[0]!
  return {
    asOf,
    meterIds: r.meter_ids as string[] | null,
    vehicle: vehicleAggregateOf(r, 'v_'),
    meter: meterAggregateOf(r, 'm_'),
  }
}

export async function meterSummaryOf(pool: pg.Pool, meterId: string, window: Range) {
  const p = new Params()
  const frame = frameColumns('meter', meterId, p)
  const [m, from, to] = [p.add(meterId), p.add(window.from), p.add(window.to)]
  const text = `SELECT ${frame}, ARRAY(${meterVehicleIdsSql(m, from, to)}) AS vehicle_ids, magg.*
  FROM (SELECT ${aggregateColumns('meter')}
          FROM (${partsSql('meter', oneRange(p, meterId, window), window, hourRuns(window), p)}) p) magg`
  const { rows, asOf } = await deviceStatement<Row>(pool, 'meter', meterId, { text, values: p.values })
  const r = rows[0]!
  return { asOf, vehicleIds: r.vehicle_ids as string[], meter: meterAggregateOf(r) }
}

export async function vehicleSummaryOf(pool: pg.Pool, vehicleId: string, window: Range) {
  const p = new Params()
  const frame = frameColumns('vehicle', vehicleId, p)
  const text = `SELECT ${frame}, vagg.*
  FROM (SELECT ${aggregateColumns('vehicle')}
          FROM (${partsSql('vehicle', oneRange(p, vehicleId, window), window, hourRuns(window), p)}) p) vagg`
  const { rows, asOf } = await deviceStatement<Row>(pool, 'vehicle', vehicleId, { text, values: p.values })
  return { asOf, vehicle: vehicleAggregateOf(rows[0]!) }
}
