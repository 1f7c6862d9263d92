import { decimalText } from '../copy-text.js'
import type { VehicleRow } from '../types.js'
import type { KindSpec } from './kind-spec.js'

const COLUMNS = 'vehicle_id, ts, soc, kwh_delivered_dc, battery_temp, received_at'

const INSERT_FROM_STAGING = `
  WITH ins AS (
    INSERT INTO vehicle_history (${COLUMNS})
    SELECT ${COLUMNS} FROM vehicle_staging ORDER BY n
    ON CONFLICT (vehicle_id, ts) DO NOTHING
    RETURNING vehicle_id, ts)
  SELECT DISTINCT ON (s.vehicle_id, s.ts) s.n
  FROM vehicle_staging s JOIN ins USING (vehicle_id, ts)
  ORDER BY s.vehicle_id, s.ts, s.n`

const FOLD_FLEET = `
  INSERT INTO vehicle_fleet_minutely AS f (minute, shard, readings, kwh_delivered_dc_sum, battery_temp_sum)
  SELECT date_trunc('minute', t.ts, 'UTC'), $1, count(*), sum(t.kwh), sum(t.temp)
  FROM unnest($2::timestamptz[], $3::numeric[], $4::numeric[]) AS t(ts, kwh, temp)
  GROUP BY 1 ORDER BY 1
  ON CONFLICT (minute, shard) DO UPDATE SET
    readings = f.readings + excluded.readings,
    kwh_delivered_dc_sum = f.kwh_delivered_dc_sum + excluded.kwh_delivered_dc_sum,
    battery_temp_sum = f.battery_temp_sum + excluded.battery_temp_sum`

const HOURLY_COLUMNS = `vehicle_id, hour, readings, kwh_delivered_dc_sum, battery_temp_sum, battery_temp_min,
  battery_temp_max, soc_sum, soc_min, soc_max, first_ts, first_soc, last_ts, last_soc`

const HOURLY_AGGREGATES = (id: string, ts: string, soc: string, kwh: string, temp: string) => `
  ${id}, date_trunc('hour', ${ts}, 'UTC'), count(*), sum(${kwh}), sum(${temp}), min(${temp}), max(${temp}),
  sum(${soc}), min(${soc}), max(${soc}),
  min(${ts}), (array_agg(${soc} ORDER BY ${ts}))[1], max(${ts}), (array_agg(${soc} ORDER BY ${ts} DESC))[1]`

const FOLD_HOURLY = `
  INSERT INTO vehicle_hourly AS h (${HOURLY_COLUMNS})
  SELECT ${HOURLY_AGGREGATES('t.id', 't.ts', 't.soc', 't.kwh', 't.temp')}
  FROM unnest($1::text[], $2::timestamptz[], $3::numeric[], $4::numeric[], $5::numeric[])
    AS t(id, ts, soc, kwh, temp)
  GROUP BY 1, 2 ORDER BY 1, 2
  ON CONFLICT (vehicle_id, hour) DO UPDATE SET
    readings = h.readings + excluded.readings,
    kwh_delivered_dc_sum = h.kwh_delivered_dc_sum + excluded.kwh_delivered_dc_sum,
    battery_temp_sum = h.battery_temp_sum + excluded.battery_temp_sum,
    battery_temp_min = least(h.battery_temp_min, excluded.battery_temp_min),
    battery_temp_max = greatest(h.battery_temp_max, excluded.battery_temp_max),
    soc_sum = h.soc_sum + excluded.soc_sum,
    soc_min = least(h.soc_min, excluded.soc_min),
    soc_max = greatest(h.soc_max, excluded.soc_max),
    first_soc = CASE WHEN excluded.first_ts < h.first_ts THEN excluded.first_soc ELSE h.first_soc END,
    first_ts = least(h.first_ts, excluded.first_ts),
    last_soc = CASE WHEN excluded.last_ts > h.last_ts THEN excluded.last_soc ELSE h.last_soc END,
    last_ts = greatest(h.last_ts, excluded.last_ts)`

const UPSERT_LIVE = `
  INSERT INTO vehicle_live AS l (${COLUMNS}, updated_at)
  SELECT t.*, now()
  FROM unnest($1::text[], $2::timestamptz[], $3::numeric[], $4::numeric[], $5::numeric[], $6::timestamptz[])
    AS t(vehicle_id, ts, soc, kwh_delivered_dc, battery_temp, received_at)
  ON CONFLICT (vehicle_id) DO UPDATE SET
    ts = excluded.ts, soc = excluded.soc, kwh_delivered_dc = excluded.kwh_delivered_dc,
    battery_temp = excluded.battery_temp, received_at = excluded.received_at, updated_at = excluded.updated_at
  WHERE l.ts < excluded.ts`

const MATERIALIZE_HOURLY = `
  INSERT INTO vehicle_hourly AS h (${HOURLY_COLUMNS})
  SELECT ${HOURLY_AGGREGATES('vehicle_id', 'ts', 'soc', 'kwh_delivered_dc', 'battery_temp')}
  FROM vehicle_history WHERE ts >= $1 AND ts < $2
  GROUP BY 1, 2
  ON CONFLICT (vehicle_id, hour) DO UPDATE SET
    readings = excluded.readings, kwh_delivered_dc_sum = excluded.kwh_delivered_dc_sum,
    battery_temp_sum = excluded.battery_temp_sum, battery_temp_min = excluded.battery_temp_min,
    battery_temp_max = excluded.battery_temp_max, soc_sum = excluded.soc_sum, soc_min = excluded.soc_min,
    soc_max = excluded.soc_max, first_ts = excluded.first_ts, first_soc = excluded.first_soc,
    last_ts = excluded.last_ts, last_soc = excluded.last_soc`

export const VEHICLE: KindSpec<VehicleRow> = {
  kind: 'vehicle',
  fields: (r) => [
    r.vehicleId,
    r.timestamp,
    decimalText(r.soc),
    decimalText(r.kwhDeliveredDc),
    decimalText(r.batteryTemp),
    r.receivedAt ?? null,
  ],
  deviceId: (r) => r.vehicleId,
  timestamp: (r) => r.timestamp,
  copyHistory: `COPY vehicle_history (${COLUMNS}) FROM STDIN`,
  createStaging: `CREATE TEMP TABLE IF NOT EXISTS vehicle_staging (
    n integer, vehicle_id text, ts timestamptz, soc numeric, kwh_delivered_dc numeric, battery_temp numeric,
    received_at timestamptz
  ) ON COMMIT DELETE ROWS`,
  copyStaging: `COPY vehicle_staging (n, ${COLUMNS}) FROM STDIN`,
  insertFromStaging: INSERT_FROM_STAGING,
  foldFleet: FOLD_FLEET,
  fleetColumns: [1, 3, 4],
  foldHourly: FOLD_HOURLY,
  upsertLive: UPSERT_LIVE,
  materializeHourly: MATERIALIZE_HOURLY,
}
