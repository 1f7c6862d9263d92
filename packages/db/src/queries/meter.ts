import { decimalText } from '../copy-text.js'
import type { MeterRow } from '../types.js'
import type { KindSpec } from './kind-spec.js'

const COLUMNS = 'meter_id, ts, kwh_consumed_ac, voltage, received_at'

const INSERT_FROM_STAGING = `
  WITH ins AS (
    INSERT INTO meter_history (${COLUMNS})
    SELECT ${COLUMNS} FROM meter_staging ORDER BY n
    ON CONFLICT (meter_id, ts) DO NOTHING
    RETURNING meter_id, ts)
  SELECT DISTINCT ON (s.meter_id, s.ts) s.n
  FROM meter_staging s JOIN ins USING (meter_id, ts)
  ORDER BY s.meter_id, s.ts, s.n`

const FOLD_FLEET = `
  INSERT INTO meter_fleet_minutely AS f (minute, shard, readings, kwh_consumed_ac_sum)
  SELECT date_trunc('minute', t.ts, 'UTC'), $1, count(*), sum(t.kwh)
  FROM unnest($2::timestamptz[], $3::numeric[]) AS t(ts, kwh)
  GROUP BY 1 ORDER BY 1
  ON CONFLICT (minute, shard) DO UPDATE SET
    readings = f.readings + excluded.readings,
    kwh_consumed_ac_sum = f.kwh_consumed_ac_sum + excluded.kwh_consumed_ac_sum`

const HOURLY_COLUMNS = `meter_id, hour, readings, kwh_consumed_ac_sum, voltage_sum, voltage_min, voltage_max,
  first_ts, last_ts`

const FOLD_HOURLY = `
  INSERT INTO meter_hourly AS h (${HOURLY_COLUMNS})
  SELECT t.id, date_trunc('hour', t.ts, 'UTC'), count(*), sum(t.kwh), sum(t.v), min(t.v), max(t.v),
    min(t.ts), max(t.ts)
  FROM unnest($1::text[], $2::timestamptz[], $3::numeric[], $4::numeric[]) AS t(id, ts, kwh, v)
  GROUP BY 1, 2 ORDER BY 1, 2
  ON CONFLICT (meter_id, hour) DO UPDATE SET
    readings = h.readings + excluded.readings,
    kwh_consumed_ac_sum = h.kwh_consumed_ac_sum + excluded.kwh_consumed_ac_sum,
    voltage_sum = h.voltage_sum + excluded.voltage_sum,
    voltage_min = least(h.voltage_min, excluded.voltage_min),
    voltage_max = greatest(h.voltage_max, excluded.voltage_max),
    first_ts = least(h.first_ts, excluded.first_ts),
    last_ts = greatest(h.last_ts, excluded.last_ts)`

const UPSERT_LIVE = `
  INSERT INTO meter_live AS l (${COLUMNS}, updated_at)
  SELECT t.*, now()
  FROM unnest($1::text[], $2::timestamptz[], $3::numeric[], $4::numeric[], $5::timestamptz[])
    AS t(meter_id, ts, kwh_consumed_ac, voltage, received_at)
  ON CONFLICT (meter_id) DO UPDATE SET
    ts = excluded.ts, kwh_consumed_ac = excluded.kwh_consumed_ac, voltage = excluded.voltage,
    received_at = excluded.received_at, updated_at = excluded.updated_at
  WHERE l.ts < excluded.ts`

const MATERIALIZE_HOURLY = `
  INSERT INTO meter_hourly AS h (${HOURLY_COLUMNS})
  SELECT meter_id, date_trunc('hour', ts, 'UTC'), count(*), sum(kwh_consumed_ac), sum(voltage),
    min(voltage), max(voltage), min(ts), max(ts)
  FROM meter_history WHERE ts >= $1 AND ts < $2
  GROUP BY 1, 2
  ON CONFLICT (meter_id, hour) DO UPDATE SET
    readings = excluded.readings, kwh_consumed_ac_sum = excluded.kwh_consumed_ac_sum,
    voltage_sum = excluded.voltage_sum, voltage_min = excluded.voltage_min, voltage_max = excluded.voltage_max,
    first_ts = excluded.first_ts, last_ts = excluded.last_ts`

export const METER: KindSpec<MeterRow> = {
  kind: 'meter',
  fields: (r) => [
    r.meterId,
    r.timestamp,
    decimalText(r.kwhConsumedAc),
    decimalText(r.voltage),
    r.receivedAt ?? null,
  ],
  deviceId: (r) => r.meterId,
  timestamp: (r) => r.timestamp,
  copyHistory: `COPY meter_history (${COLUMNS}) FROM STDIN`,
  createStaging: `CREATE TEMP TABLE IF NOT EXISTS meter_staging (
    n integer, meter_id text, ts timestamptz, kwh_consumed_ac numeric, voltage numeric, received_at timestamptz
  ) ON COMMIT DELETE ROWS`,
  copyStaging: `COPY meter_staging (n, ${COLUMNS}) FROM STDIN`,
  insertFromStaging: INSERT_FROM_STAGING,
  foldFleet: FOLD_FLEET,
  fleetColumns: [1, 2],
  foldHourly: FOLD_HOURLY,
  upsertLive: UPSERT_LIVE,
  materializeHourly: MATERIALIZE_HOURLY,
}
