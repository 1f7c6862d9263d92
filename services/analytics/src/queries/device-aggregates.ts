// Per-device answers over a window, each one SQL statement: one round trip and one snapshot (a single
// statement sees one snapshot, so it needs no transaction around it). The statement reads the
// watermarks and the replica's freshness itself (stateCteSql), splits the window into rollup and
// history parts from them (planSql, the SQL twin of planWindow), and aggregates a UNION ALL of index
// range scans, one group of three per (device, range). Values stay `numeric` until the edge, so sums
// are exact. The statements are named (prepared once per connection): planning them, pruning every
// monthly partition of each branch, cost more than running them on a 24 h window.
import type pg from 'pg'
import { fromColumns } from './columns.js'
import { meterVehicleIdsSql, vehicleMeterRangesSql } from './assignments.js'
import { stateCteSql } from './snapshot.js'
import { planSql } from './window.js'

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

/** A per-device statement's row: the state columns, then the answer's own. */
export interface DeviceRow {
  /** How fresh the replica is; null when it cannot tell (see SnapshotState.asOf). */
  as_of: Date | null
  /** Whether the device has ever reported. */
  known: boolean
  [column: string]: unknown
}

/**
 * The parts of one device's window as SQL expressions: the device, its plan's columns, and the
 * request's window (`$2`, `$3`), which bounds every part. Those bounds are redundant for the rows, but
 * they are parameters of the statement, so the executor drops the months outside the window before it
 * starts (a plan column, computed in the statement, could only prune at run time, after every
 * partition's scan was set up); the index range scan takes the tighter of the two bounds.
 */
export interface Parts {
  device: string
  col: (column: (typeof PLAN_COLUMNS)[number]) => string
}

const PLAN_COLUMNS = ['rf', 'rt', 'h1f', 'h1t', 'h2f', 'h2t'] as const

/** Parts read from a one-row plan CTE as scalar subqueries. */
export const fromPlanCte = (device: string, cte: string): Parts => ({
  device,
  col: (column) => `(SELECT ${column} FROM ${cte})`,
})

/** Parts read from a plan row joined laterally (one per range). */
export const fromPlanRow = (device: string, row: string): Parts => ({
  device,
  col: (column) => `${row}.${column}`,
})

/** `column` in [lo, hi) and inside the request's window. */
const range = (column: string, lo: string, hi: string) =>
  `${column} >= ${lo} AND ${column} < ${hi} AND ${column} >= $2::timestamptz AND ${column} < $3::timestamptz`

const FLAGS = `('reset' = ANY (energy_flags))::int, ('placeholder' = ANY (energy_flags))::int,
         ('suspect' = ANY (energy_flags))::int`

const meterBlock = ({ device, col }: Parts) => `
  SELECT readings::bigint AS n, kwh_consumed_ac_sum AS kwh, voltage_sum AS vsum, voltage_min AS vmin,
         voltage_max AS vmax, first_ts, last_ts, energy_resets AS fr, energy_placeholders AS fp,
         energy_suspects AS fs
    FROM meter_hourly WHERE meter_id = ${device} AND ${range('hour', col('rf'), col('rt'))}
  UNION ALL
  SELECT 1, kwh_consumed_ac, voltage, voltage, voltage, ts, ts, ${FLAGS}
    FROM meter_history WHERE meter_id = ${device} AND ${range('ts', col('h1f'), col('h1t'))}
  UNION ALL
  SELECT 1, kwh_consumed_ac, voltage, voltage, voltage, ts, ts, ${FLAGS}
    FROM meter_history WHERE meter_id = ${device} AND ${range('ts', col('h2f'), col('h2t'))}`

const vehicleBlock = ({ device, col }: Parts) => `
  SELECT readings::bigint AS n, kwh_delivered_dc_sum AS kwh, battery_temp_sum AS tsum, battery_temp_min AS tmin,
         battery_temp_max AS tmax, soc_min AS smin, soc_max AS smax, first_ts, first_soc, last_ts, last_soc
    FROM vehicle_hourly WHERE vehicle_id = ${device} AND ${range('hour', col('rf'), col('rt'))}
  UNION ALL
  SELECT 1, kwh_delivered_dc, battery_temp, battery_temp, battery_temp, soc, soc, ts, soc, ts, soc
    FROM vehicle_history WHERE vehicle_id = ${device} AND ${range('ts', col('h1f'), col('h1t'))}
  UNION ALL
  SELECT 1, kwh_delivered_dc, battery_temp, battery_temp, battery_temp, soc, soc, ts, soc, ts, soc
    FROM vehicle_history WHERE vehicle_id = ${device} AND ${range('ts', col('h2f'), col('h2t'))}`

/** Per field of the meter aggregate: [aggregate over the parts, column name]. */
const METER_COLUMNS: Record<keyof MeterAggregate, [string, string]> = {
  readings: ['COALESCE(sum(n), 0)::int', 'readings'],
  kwh: ['COALESCE(sum(kwh), 0)::text', 'kwh'],
  voltageSum: ['sum(vsum)::text', 'voltage_sum'],
  voltageMin: ['min(vmin)::text', 'voltage_min'],
  voltageMax: ['max(vmax)::text', 'voltage_max'],
  firstTs: ['min(first_ts)', 'first_ts'],
  lastTs: ['max(last_ts)', 'last_ts'],
  resets: ['COALESCE(sum(fr), 0)::int', 'resets'],
  placeholders: ['COALESCE(sum(fp), 0)::int', 'placeholders'],
  suspects: ['COALESCE(sum(fs), 0)::int', 'suspects'],
}

/** Per field of the vehicle aggregate: [aggregate over the parts, column name]. */
const VEHICLE_COLUMNS: Record<keyof VehicleAggregate, [string, string]> = {
  readings: ['COALESCE(sum(n), 0)::int', 'readings'],
  kwh: ['COALESCE(sum(kwh), 0)::text', 'kwh'],
  tempSum: ['sum(tsum)::text', 'temp_sum'],
  tempMin: ['min(tmin)::text', 'temp_min'],
  tempMax: ['max(tmax)::text', 'temp_max'],
  socMin: ['min(smin)::text', 'soc_min'],
  socMax: ['max(smax)::text', 'soc_max'],
  firstSoc: ['((array_agg(first_soc ORDER BY first_ts))[1])::text', 'first_soc'],
  lastSoc: ['((array_agg(last_soc ORDER BY last_ts DESC))[1])::text', 'last_soc'],
  firstTs: ['min(first_ts)', 'first_ts'],
  lastTs: ['max(last_ts)', 'last_ts'],
}

const columns = (cols: Record<string, [string, string]>, prefix: string) =>
  Object.values(cols)
    .map(([aggregate, name]) => `${aggregate} AS ${prefix}${name}`)
    .join(',\n         ')

/** The column name of each field. */
const names = <T>(cols: Record<keyof T, [string, string]>) =>
  Object.fromEntries(
    Object.entries<[string, string]>(cols).map(([field, [, name]]) => [field, name]),
  ) as Record<keyof T, string>

/**
 * The CTEs every per-device statement starts with ($1 device, $2/$3 window): `st`, the state with the
 * device check (stateCteSql), and `<kind>_plan`, the window's plan from its watermark.
 */
export const deviceCtes = (kind: 'meter' | 'vehicle') =>
  `st AS (${stateCteSql({ kind, id: '$1' })}),
     ${kind}_plan AS (${planSql('$2', '$3', `(SELECT ${kind}_cb FROM st)`)})`

/**
 * After deviceCtes('vehicle'): `ranges`, the meters that count for the vehicle, each over its part of
 * the window (vehicleMeterRangesSql), and `meter_plans`, each range's plan from the meter watermark.
 */
export const METER_RANGES_CTES = `ranges AS (${vehicleMeterRangesSql('$1', '$2', '$3')}),
     meter_plans AS (
       SELECT ranges.meter_id, p.*
         FROM ranges, LATERAL (${planSql('ranges.f', 'ranges.t', '(SELECT meter_cb FROM st)')}) p)`

/** The ids of the `ranges` meters (METER_RANGES_CTES), as the column `meter_ids`. */
export const METER_IDS_COLUMN = `(SELECT COALESCE(array_agg(DISTINCT meter_id), '{}') FROM ranges) AS meter_ids`

/** A row's `meter_ids`, sorted in JS (the same order whatever the database's collation). */
export const meterIdsOf = (row: DeviceRow) => [...(row.meter_ids as string[])].sort()

/** A meter's summary ($1 meter, $2/$3 window): aggregate (m_*) and the vehicles it served. */
export const METER_SUMMARY = {
  name: 'meter-summary',
  text: `WITH ${deviceCtes('meter')}
SELECT st.as_of, st.known, m.*,
       (SELECT COALESCE(array_agg(vehicle_id ORDER BY vehicle_id), '{}')
          FROM (${meterVehicleIdsSql('$1', '$2', '$3')}) ids) AS vehicle_ids
  FROM st, (SELECT ${columns(METER_COLUMNS, 'm_')}
              FROM (${meterBlock(fromPlanCte('$1', 'meter_plan'))}) parts) m`,
}

/** A vehicle's summary ($1 vehicle, $2/$3 window): aggregate (v_*). */
export const VEHICLE_SUMMARY = {
  name: 'vehicle-summary',
  text: `WITH ${deviceCtes('vehicle')}
SELECT st.as_of, st.known, v.*
  FROM st, (SELECT ${columns(VEHICLE_COLUMNS, 'v_')}
              FROM (${vehicleBlock(fromPlanCte('$1', 'vehicle_plan'))}) parts) v`,
}

/**
 * A vehicle's performance ($1 vehicle, $2/$3 window): its aggregate (v_*), and the aggregate (m_*) of
 * the meters that count for it (vehicleMeterRangesSql), each over its own range and plan, with their
 * ids (`meter_ids`).
 */
export const VEHICLE_PERFORMANCE = {
  name: 'vehicle-performance',
  text: `WITH ${deviceCtes('vehicle')}, ${METER_RANGES_CTES}
SELECT st.as_of, st.known, v.*, m.*, ${METER_IDS_COLUMN}
  FROM st,
       (SELECT ${columns(VEHICLE_COLUMNS, 'v_')}
          FROM (${vehicleBlock(fromPlanCte('$1', 'vehicle_plan'))}) parts) v,
       (SELECT ${columns(METER_COLUMNS, 'm_')}
          FROM meter_plans mp, LATERAL (${meterBlock(fromPlanRow('mp.meter_id', 'mp'))}) parts) m`,
}

/** Runs one of the statements above for a device and window. */
export async function deviceRow(
  pool: pg.Pool,
  statement: { name: string; text: string },
  deviceId: string,
  window: { from: Date; to: Date },
  /** The statement's parameters after the device and the window ($4 …). */
  more: unknown[] = [],
): Promise<DeviceRow> {
  const { rows } = await pool.query<DeviceRow>({
    ...statement,
    values: [deviceId, window.from, window.to, ...more],
  })
  return rows[0]!
}

const METER_NAMES = names(METER_COLUMNS)
const VEHICLE_NAMES = names(VEHICLE_COLUMNS)

/** The meter aggregate of a statement's row, from its columns named `${prefix}<name>`. */
export const meterAggregateOf = (r: Record<string, unknown>, prefix: string): MeterAggregate =>
  fromColumns<MeterAggregate>(METER_NAMES, prefix)(r)

/** The vehicle aggregate of a statement's row, from its columns named `${prefix}<name>`. */
export const vehicleAggregateOf = (r: Record<string, unknown>, prefix: string): VehicleAggregate =>
  fromColumns<VehicleAggregate>(VEHICLE_NAMES, prefix)(r)
