import { decimalText } from '../copy-text.js'
import type { VehicleRow } from '../types.js'
import { historyStatements, liveStatements, type KindSpec } from './kind-spec.js'

const COLUMNS = 'vehicle_id, ts, soc, kwh_delivered_dc, battery_temp, received_at'

const HOURLY_COLUMNS = `vehicle_id, hour, readings, kwh_delivered_dc_sum, battery_temp_sum, battery_temp_min,
  battery_temp_max, soc_sum, soc_min, soc_max, first_ts, first_soc, last_ts, last_soc`

const HOURLY_SELECT = `vehicle_id, date_trunc('hour', ts, 'UTC'), count(*), sum(kwh_delivered_dc),
  sum(battery_temp), min(battery_temp), max(battery_temp), sum(soc), min(soc), max(soc),
  min(ts), (array_agg(soc ORDER BY ts))[1], max(ts), (array_agg(soc ORDER BY ts DESC))[1]`

const FOLD_LATE = `
  INSERT INTO vehicle_hourly AS h (${HOURLY_COLUMNS})
  SELECT ${HOURLY_SELECT} FROM vehicle_batch WHERE ts < $1
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

// First/last soc by a PK lookup per device-hour: cheaper than sorting every row of the hour for them.
const MATERIALIZE_HOURLY = `
  INSERT INTO vehicle_hourly AS h (${HOURLY_COLUMNS})
  SELECT a.vehicle_id, a.hour, a.readings, a.kwh, a.temp_sum, a.temp_min, a.temp_max, a.soc_sum, a.soc_min,
    a.soc_max, a.first_ts,
    (SELECT soc FROM vehicle_history x WHERE x.vehicle_id = a.vehicle_id AND x.ts = a.first_ts),
    a.last_ts,
    (SELECT soc FROM vehicle_history x WHERE x.vehicle_id = a.vehicle_id AND x.ts = a.last_ts)
  FROM (
    SELECT vehicle_id, date_trunc('hour', ts, 'UTC') AS hour, count(*) AS readings, sum(kwh_delivered_dc) AS kwh,
      sum(battery_temp) AS temp_sum, min(battery_temp) AS temp_min, max(battery_temp) AS temp_max,
      sum(soc) AS soc_sum, min(soc) AS soc_min, max(soc) AS soc_max, min(ts) AS first_ts, max(ts) AS last_ts
    FROM vehicle_history WHERE ts >= $1 AND ts < $2
    GROUP BY 1, 2
  ) a
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
  timestamp: (r) => r.timestamp,
  ...historyStatements('vehicle', 'vehicle_id', COLUMNS),
  createBatchTable: `CREATE TEMP TABLE IF NOT EXISTS vehicle_batch (
    n integer, vehicle_id text, ts timestamptz, soc numeric, kwh_delivered_dc numeric, battery_temp numeric,
    received_at timestamptz
  ) ON COMMIT DELETE ROWS`,
  foldFleet: `
    INSERT INTO vehicle_fleet_minutely AS f (minute, shard, readings, kwh_delivered_dc_sum, battery_temp_sum)
    SELECT date_trunc('minute', ts, 'UTC'), $1, count(*), sum(kwh_delivered_dc), sum(battery_temp)
    FROM vehicle_batch
    GROUP BY 1 ORDER BY 1
    ON CONFLICT (minute, shard) DO UPDATE SET
      readings = f.readings + excluded.readings,
      kwh_delivered_dc_sum = f.kwh_delivered_dc_sum + excluded.kwh_delivered_dc_sum,
      battery_temp_sum = f.battery_temp_sum + excluded.battery_temp_sum`,
  foldFleetSums: `
    INSERT INTO vehicle_fleet_minutely AS f (minute, shard, readings, kwh_delivered_dc_sum, battery_temp_sum)
    SELECT t.minute, t.shard, t.readings, t.kwh, t.temp
    FROM unnest($1::int[], $2::timestamptz[], $3::bigint[], $4::numeric[], $5::numeric[])
      AS t(shard, minute, readings, kwh, temp)
    ORDER BY 1, 2
    ON CONFLICT (minute, shard) DO UPDATE SET
      readings = f.readings + excluded.readings,
      kwh_delivered_dc_sum = f.kwh_delivered_dc_sum + excluded.kwh_delivered_dc_sum,
      battery_temp_sum = f.battery_temp_sum + excluded.battery_temp_sum`,
  fleetColumns: [3, 4],
  foldLate: FOLD_LATE,
  live: liveStatements('vehicle', 'vehicle_id', COLUMNS, [
    'soc',
    'kwh_delivered_dc',
    'battery_temp',
    'received_at',
  ]),
  materializeHourly: MATERIALIZE_HOURLY,
}
