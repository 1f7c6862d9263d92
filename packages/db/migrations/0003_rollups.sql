-- Hourly rollups per device (UTC hours), partitioned by month like history. Counts, sums, min/max and
-- first/last with their timestamps: never averages (derive them as sum / readings). Which hours of these
-- tables are complete is said by rollup_watermarks; see packages/db/README.md (the read contract).

CREATE TABLE meter_hourly (
  meter_id text NOT NULL,
  hour timestamptz NOT NULL,
  readings integer NOT NULL,
  kwh_consumed_ac_sum numeric NOT NULL,
  voltage_sum numeric NOT NULL,
  voltage_min numeric NOT NULL,
  voltage_max numeric NOT NULL,
  first_ts timestamptz NOT NULL,
  last_ts timestamptz NOT NULL,
  PRIMARY KEY (meter_id, hour)
) PARTITION BY RANGE (hour);

CREATE TABLE vehicle_hourly (
  vehicle_id text NOT NULL,
  hour timestamptz NOT NULL,
  readings integer NOT NULL,
  kwh_delivered_dc_sum numeric NOT NULL,
  battery_temp_sum numeric NOT NULL,
  battery_temp_min numeric NOT NULL,
  battery_temp_max numeric NOT NULL,
  soc_sum numeric NOT NULL,
  soc_min numeric NOT NULL,
  soc_max numeric NOT NULL,
  first_ts timestamptz NOT NULL,
  first_soc numeric NOT NULL,
  last_ts timestamptz NOT NULL,
  last_soc numeric NOT NULL,
  PRIMARY KEY (vehicle_id, hour)
) PARTITION BY RANGE (hour);

-- Fleet rollups per UTC minute, maintained in every write transaction (a batch touches only a few
-- minutes, so this costs a few row updates per batch). `shard` is the Kafka partition the rows came
-- from: each partition has one writer at a time, so concurrent writers never wait on each other's
-- fleet rows. Readers sum over shards. Minute granularity keeps the fleet's partial edge minutes (read
-- from history) small.
CREATE TABLE meter_fleet_minutely (
  minute timestamptz NOT NULL,
  shard integer NOT NULL,
  readings bigint NOT NULL,
  kwh_consumed_ac_sum numeric NOT NULL,
  PRIMARY KEY (minute, shard)
) WITH (fillfactor = 70);

CREATE TABLE vehicle_fleet_minutely (
  minute timestamptz NOT NULL,
  shard integer NOT NULL,
  readings bigint NOT NULL,
  kwh_delivered_dc_sum numeric NOT NULL,
  battery_temp_sum numeric NOT NULL,
  PRIMARY KEY (minute, shard)
) WITH (fillfactor = 70);

-- For every hour h < closed_before, *_hourly holds the complete aggregate of history in [h, h + 1 h)
-- (no row = no readings). Hours >= closed_before must be read from history. closed_before = 'infinity'
-- means every reading is folded into *_hourly in its own write transaction (per-batch mode).
-- Moved forward only by closeHours(), under the exclusive rollup lock, in the transaction that writes
-- the hours it closes.
CREATE TABLE rollup_watermarks (
  kind text PRIMARY KEY CHECK (kind IN ('meter', 'vehicle')),
  closed_before timestamptz NOT NULL CHECK (closed_before = date_trunc('hour', closed_before, 'UTC')),
  updated_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO rollup_watermarks (kind, closed_before)
VALUES ('meter', date_trunc('hour', now(), 'UTC')), ('vehicle', date_trunc('hour', now(), 'UTC'));
