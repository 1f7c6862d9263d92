-- Newest reading per device. Upserted by the writer, guarded by `WHERE live.ts < EXCLUDED.ts`, so an
-- out-of-order or replayed reading never overwrites newer state. fillfactor < 100 leaves room on each
-- page for HOT updates (no indexed column changes on update).

CREATE TABLE meter_live (
  meter_id text PRIMARY KEY,
  ts timestamptz NOT NULL,
  kwh_consumed_ac numeric NOT NULL,
  voltage numeric NOT NULL,
  received_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
) WITH (fillfactor = 70);

CREATE TABLE vehicle_live (
  vehicle_id text PRIMARY KEY,
  ts timestamptz NOT NULL,
  soc numeric NOT NULL,
  kwh_delivered_dc numeric NOT NULL,
  battery_temp numeric NOT NULL,
  received_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
) WITH (fillfactor = 70);
