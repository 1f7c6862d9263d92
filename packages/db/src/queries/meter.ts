import { decimalText } from '../copy-text.js'
import type { MeterRow } from '../types.js'
import { historyStatements, type KindSpec } from './kind-spec.js'

const COLUMNS = 'meter_id, ts, kwh_consumed_ac, voltage, received_at'

const HOURLY_COLUMNS = `meter_id, hour, readings, kwh_consumed_ac_sum, voltage_sum, voltage_min, voltage_max,
  first_ts, last_ts`

const HOURLY_SELECT = `meter_id, date_trunc('hour', ts, 'UTC'), count(*), sum(kwh_consumed_ac), sum(voltage),
  min(voltage), max(voltage), min(ts), max(ts)`

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
  SELECT ${HOURLY_SELECT} FROM meter_history WHERE ts >= $1 AND ts < $2
  GROUP BY 1, 2
  ON CONFLICT (meter_id, hour) DO UPDATE SET
    readings = excluded.readings, kwh_consumed_ac_sum = excluded.kwh_consumed_ac_sum,
    voltage_sum = excluded.voltage_sum, voltage_min = excluded.voltage_min,
    voltage_max = excluded.voltage_max, first_ts = excluded.first_ts, last_ts = excluded.last_ts`

export const METER: KindSpec<MeterRow> = {
  kind: 'meter',
  fields: (r) => [
    r.meterId,
    r.timestamp,
    decimalText(r.kwhConsumedAc),
    decimalText(r.voltage),
    r.receivedAt ?? null,
  ],
  timestamp: (r) => r.timestamp,
  ...historyStatements('meter', 'meter_id', COLUMNS),
  createBatchTable: `CREATE TEMP TABLE IF NOT EXISTS meter_batch (
    n integer, meter_id text, ts timestamptz, kwh_consumed_ac numeric, voltage numeric, received_at timestamptz
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
    SELECT t.minute, $1, t.readings, t.kwh
    FROM unnest($2::timestamptz[], $3::bigint[], $4::numeric[]) AS t(minute, readings, kwh)
    ORDER BY 1
    ON CONFLICT (minute, shard) DO UPDATE SET
      readings = f.readings + excluded.readings,
      kwh_consumed_ac_sum = f.kwh_consumed_ac_sum + excluded.kwh_consumed_ac_sum`,
  fleetColumns: [2],
  foldLate: FOLD_LATE,
  upsertLive: `
    INSERT INTO meter_live AS l (${COLUMNS}, updated_at)
    SELECT DISTINCT ON (meter_id) ${COLUMNS}, now() FROM meter_batch ORDER BY meter_id, ts DESC
    ON CONFLICT (meter_id) DO UPDATE SET
      ts = excluded.ts, kwh_consumed_ac = excluded.kwh_consumed_ac, voltage = excluded.voltage,
      received_at = excluded.received_at, updated_at = excluded.updated_at
    WHERE l.ts < excluded.ts`,
  materializeHourly: MATERIALIZE_HOURLY,
}
