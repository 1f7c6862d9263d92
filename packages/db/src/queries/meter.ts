import { decimalText } from '../copy-text.js'
import type { MeterRow } from '../types.js'
import { historyStatements, liveStatements, type KindSpec } from './kind-spec.js'

/** Columns shared by history and live. */
const COLUMNS = 'meter_id, ts, kwh_consumed_ac, voltage, received_at'
/** History columns: a register row carries its raw register (and kwh_consumed_ac 0 until derived). */
const HISTORY_COLUMNS = `${COLUMNS}, energy_register_kwh, context`

const HOURLY_COLUMNS = `meter_id, hour, readings, kwh_consumed_ac_sum, voltage_sum, voltage_min, voltage_max,
  first_ts, last_ts, energy_resets, energy_placeholders, energy_suspects`

const flagCount = (flag: string) => `count(*) FILTER (WHERE '${flag}' = ANY (energy_flags))`

const HOURLY_SELECT = `meter_id, date_trunc('hour', ts, 'UTC'), count(*), sum(kwh_consumed_ac), sum(voltage),
  min(voltage), max(voltage), min(ts), max(ts), 0, 0, 0`

const HOURLY_SELECT_HISTORY = `meter_id, date_trunc('hour', ts, 'UTC'), count(*), sum(kwh_consumed_ac), sum(voltage),
  min(voltage), max(voltage), min(ts), max(ts), ${flagCount('reset')}, ${flagCount('placeholder')},
  ${flagCount('suspect')}`

const FOLD_LATE = `
  INSERT INTO meter_hourly AS h (${HOURLY_COLUMNS})
  SELECT ${HOURLY_SELECT} FROM meter_batch WHERE ts < $1
  GROUP BY 1, 2 ORDER BY 1, 2
  ON CONFLICT (meter_id, hour) DO UPDATE SET
    readings = h.readings + excluded.readings,
    kwh_consumed_ac_sum = h.kwh_consumed_ac_sum + excluded.kwh_consumed_ac_sum,
    voltage_sum = h.voltage_sum + excluded.voltage_sum,
    voltage_min = least(h.voltage_min, excluded.voltage_min),
    voltage_max = greatest(h.voltage_max, excluded.voltage_max),
    first_ts = least(h.first_ts, excluded.first_ts),
    last_ts = greatest(h.last_ts, excluded.last_ts)`

const MATERIALIZE_HOURLY = `
  INSERT INTO meter_hourly AS h (${HOURLY_COLUMNS})
  SELECT ${HOURLY_SELECT_HISTORY} FROM meter_history WHERE ts >= $1 AND ts < $2
  GROUP BY 1, 2
  ON CONFLICT (meter_id, hour) DO UPDATE SET
    readings = excluded.readings, kwh_consumed_ac_sum = excluded.kwh_consumed_ac_sum,
    voltage_sum = excluded.voltage_sum, voltage_min = excluded.voltage_min,
    voltage_max = excluded.voltage_max, first_ts = excluded.first_ts, last_ts = excluded.last_ts,
    energy_resets = excluded.energy_resets, energy_placeholders = excluded.energy_placeholders,
    energy_suspects = excluded.energy_suspects`

export const METER: KindSpec<MeterRow> = {
  kind: 'meter',
  // A register row is stored with kwh_consumed_ac 0 (folded as 0 into every rollup); the register pass
  // of the same transaction derives its energy and folds the difference (register-pass.ts).
  fields: (r) => [
    r.meterId,
    r.timestamp,
    r.energyRegisterKwh === undefined ? decimalText(r.kwhConsumedAc ?? 0) : '0',
    decimalText(r.voltage),
    r.receivedAt ?? null,
    r.energyRegisterKwh === undefined ? null : decimalText(r.energyRegisterKwh),
    r.context ?? null,
  ],
  timestamp: (r) => r.timestamp,
  ...historyStatements('meter', 'meter_id', HISTORY_COLUMNS),
  createBatchTable: `CREATE TEMP TABLE IF NOT EXISTS meter_batch (
    n integer, meter_id text, ts timestamptz, kwh_consumed_ac numeric, voltage numeric, received_at timestamptz,
    energy_register_kwh numeric, context text
  ) ON COMMIT DELETE ROWS`,
  foldFleet: `
    INSERT INTO meter_fleet_minutely AS f (minute, shard, readings, kwh_consumed_ac_sum)
    SELECT date_trunc('minute', ts, 'UTC'), $1, count(*), sum(kwh_consumed_ac) FROM meter_batch
    GROUP BY 1 ORDER BY 1
    ON CONFLICT (minute, shard) DO UPDATE SET
      readings = f.readings + excluded.readings,
      kwh_consumed_ac_sum = f.kwh_consumed_ac_sum + excluded.kwh_consumed_ac_sum`,
  foldFleetSums: `
    INSERT INTO meter_fleet_minutely AS f (minute, shard, readings, kwh_consumed_ac_sum)
    SELECT t.minute, t.shard, t.readings, t.kwh
    FROM unnest($1::int[], $2::timestamptz[], $3::bigint[], $4::numeric[]) AS t(shard, minute, readings, kwh)
    ORDER BY 1, 2
    ON CONFLICT (minute, shard) DO UPDATE SET
      readings = f.readings + excluded.readings,
      kwh_consumed_ac_sum = f.kwh_consumed_ac_sum + excluded.kwh_consumed_ac_sum`,
  fleetColumns: [2],
  foldLate: FOLD_LATE,
  live: liveStatements('meter', 'meter_id', COLUMNS, ['kwh_consumed_ac', 'voltage', 'received_at']),
  materializeHourly: MATERIALIZE_HOURLY,
  registerKey: (r) =>
    r.energyRegisterKwh === undefined ? undefined : { meterId: r.meterId, timestamp: r.timestamp },
}
