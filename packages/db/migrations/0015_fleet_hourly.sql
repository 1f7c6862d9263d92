-- Fleet rollups per UTC hour and shard, kept equal to the sums of *_fleet_minutely by a trigger.
-- (Version 0014 is skipped on purpose: a migration of that number existed briefly and was reverted;
-- databases that applied it must not meet a different file under the same number.)
--
-- `changes` counts the writes folded into an hour and shard: it only grows, so the sum over shards is a
-- version of the hour. Every write that changes an hour's rollups (a batch, a late reading, a register
-- correction) goes through the fleet minutes of that hour, so a reader that cached something derived
-- from an hour's rollups knows it is stale when the version moved (the analytics efficiency alerts).
--
-- Why: a fleet answer over 24 h summed 1,440 minutes x 12 shards = 17,280 rows per kind; with these it
-- reads 24 x 12 hour rows plus at most 2 x 59 edge minutes per shard, whatever the window's length.
--
-- Why a trigger: every path that adds to the fleet minutes (the batch fold, the late-reading fold, the
-- register pass's energy corrections, the benchmark loader) then keeps the hours too, in the same
-- transaction, with nothing to forget. It fires once per minute row touched: a batch touches a few
-- minutes of its own shard, and each shard has one writer at a time, so the hour rows are never
-- contended. Deletes (retention) are not mirrored: retention deletes old hours itself.

CREATE TABLE meter_fleet_hourly (
  hour timestamptz NOT NULL,
  shard integer NOT NULL,
  readings bigint NOT NULL,
  kwh_consumed_ac_sum numeric NOT NULL,
  changes bigint NOT NULL DEFAULT 1,
  PRIMARY KEY (hour, shard)
) WITH (fillfactor = 70);

CREATE TABLE vehicle_fleet_hourly (
  hour timestamptz NOT NULL,
  shard integer NOT NULL,
  readings bigint NOT NULL,
  kwh_delivered_dc_sum numeric NOT NULL,
  battery_temp_sum numeric NOT NULL,
  changes bigint NOT NULL DEFAULT 1,
  PRIMARY KEY (hour, shard)
) WITH (fillfactor = 70);

CREATE FUNCTION meter_fleet_hourly_fold() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO meter_fleet_hourly AS f (hour, shard, readings, kwh_consumed_ac_sum)
  VALUES (
    date_trunc('hour', NEW.minute, 'UTC'),
    NEW.shard,
    NEW.readings - CASE WHEN TG_OP = 'UPDATE' THEN OLD.readings ELSE 0 END,
    NEW.kwh_consumed_ac_sum - CASE WHEN TG_OP = 'UPDATE' THEN OLD.kwh_consumed_ac_sum ELSE 0 END
  )
  ON CONFLICT (hour, shard) DO UPDATE SET
    readings = f.readings + excluded.readings,
    kwh_consumed_ac_sum = f.kwh_consumed_ac_sum + excluded.kwh_consumed_ac_sum,
    changes = f.changes + 1;
  RETURN NULL;
END
$$;

CREATE FUNCTION vehicle_fleet_hourly_fold() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO vehicle_fleet_hourly AS f (hour, shard, readings, kwh_delivered_dc_sum, battery_temp_sum)
  VALUES (
    date_trunc('hour', NEW.minute, 'UTC'),
    NEW.shard,
    NEW.readings - CASE WHEN TG_OP = 'UPDATE' THEN OLD.readings ELSE 0 END,
    NEW.kwh_delivered_dc_sum - CASE WHEN TG_OP = 'UPDATE' THEN OLD.kwh_delivered_dc_sum ELSE 0 END,
    NEW.battery_temp_sum - CASE WHEN TG_OP = 'UPDATE' THEN OLD.battery_temp_sum ELSE 0 END
  )
  ON CONFLICT (hour, shard) DO UPDATE SET
    readings = f.readings + excluded.readings,
    kwh_delivered_dc_sum = f.kwh_delivered_dc_sum + excluded.kwh_delivered_dc_sum,
    battery_temp_sum = f.battery_temp_sum + excluded.battery_temp_sum,
    changes = f.changes + 1;
  RETURN NULL;
END
$$;

CREATE TRIGGER meter_fleet_hourly_fold AFTER INSERT OR UPDATE ON meter_fleet_minutely
  FOR EACH ROW EXECUTE FUNCTION meter_fleet_hourly_fold();
CREATE TRIGGER vehicle_fleet_hourly_fold AFTER INSERT OR UPDATE ON vehicle_fleet_minutely
  FOR EACH ROW EXECUTE FUNCTION vehicle_fleet_hourly_fold();

-- The hours of what is already there.
INSERT INTO meter_fleet_hourly (hour, shard, readings, kwh_consumed_ac_sum)
SELECT date_trunc('hour', minute, 'UTC'), shard, sum(readings), sum(kwh_consumed_ac_sum)
  FROM meter_fleet_minutely GROUP BY 1, 2;
INSERT INTO vehicle_fleet_hourly (hour, shard, readings, kwh_delivered_dc_sum, battery_temp_sum)
SELECT date_trunc('hour', minute, 'UTC'), shard, sum(readings), sum(kwh_delivered_dc_sum), sum(battery_temp_sum)
  FROM vehicle_fleet_minutely GROUP BY 1, 2;

-- A version of the vehicle-meter assignments, moved by every statement that changes them: a reader
-- that cached something derived from the assignments knows when it is stale.
CREATE TABLE assignments_version (
  one boolean PRIMARY KEY DEFAULT true CHECK (one),
  version bigint NOT NULL
);
INSERT INTO assignments_version (version) VALUES (1);

CREATE FUNCTION assignments_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE assignments_version SET version = version + 1;
  RETURN NULL;
END
$$;

CREATE TRIGGER assignments_version_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
  ON vehicle_meter_assignments FOR EACH STATEMENT EXECUTE FUNCTION assignments_version_bump();
