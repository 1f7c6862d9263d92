-- Raw readings, append-only, range-partitioned by UTC month on ts. Partitions (meter_history_2026_01, ...)
-- are created by the partition manager (src/partitions.ts); there is deliberately no DEFAULT partition.
-- Values are `numeric` without a scale: stored exactly as sent (the shortest decimal form of the JSON
-- number), and sums are exact and independent of order, so rollup sums equal raw sums digit for digit.
-- A numeric(p,s) would round what it cannot hold; the ranges are CHECK constraints instead.

CREATE TABLE meter_history (
  meter_id text NOT NULL,
  ts timestamptz NOT NULL,
  kwh_consumed_ac numeric NOT NULL CHECK (kwh_consumed_ac >= 0 AND kwh_consumed_ac <= 1000),
  voltage numeric NOT NULL CHECK (voltage >= 0 AND voltage <= 1000),
  received_at timestamptz,
  PRIMARY KEY (meter_id, ts)
) PARTITION BY RANGE (ts);

CREATE TABLE vehicle_history (
  vehicle_id text NOT NULL,
  ts timestamptz NOT NULL,
  soc numeric NOT NULL CHECK (soc >= 0 AND soc <= 100),
  kwh_delivered_dc numeric NOT NULL CHECK (kwh_delivered_dc >= 0 AND kwh_delivered_dc <= 1000),
  battery_temp numeric NOT NULL CHECK (battery_temp >= -60 AND battery_temp <= 120),
  received_at timestamptz,
  PRIMARY KEY (vehicle_id, ts)
) PARTITION BY RANGE (ts);

-- Fleet-wide time ranges (closing an hour, fleet edge minutes) without a sequential scan. Rows arrive
-- roughly in time order, so a BRIN index is tiny and almost free to maintain, unlike a second btree.
CREATE INDEX meter_history_ts_brin ON meter_history USING brin (ts) WITH (pages_per_range = 16);
CREATE INDEX vehicle_history_ts_brin ON vehicle_history USING brin (ts) WITH (pages_per_range = 16);
