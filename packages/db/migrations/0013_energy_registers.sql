-- Meters that report a cumulative energy register (OCPP Energy.Active.Import.Register) instead of
-- interval energy. The raw register is stored as sent; kwh_consumed_ac of such a row is DERIVED by the
-- write transaction (its increase over the meter's previous register reading in time order, see
-- packages/db/src/register-energy.ts) and recomputed when a late reading changes its neighbourhood, so
-- every rollup keeps summing kwh_consumed_ac as before. energy_flags (NULL: none) holds the derivation
-- rules that applied: first, reset, placeholder, suspect. Interval rows keep NULL in all three columns.
ALTER TABLE meter_history
  ADD COLUMN energy_register_kwh numeric CHECK (energy_register_kwh >= 0),
  ADD COLUMN energy_flags text[],
  ADD COLUMN context text;

-- A derived energy is bounded by the power ceiling times the interval, not by the 1000 kWh that the
-- contracts allow for one interval reading (a register meter offline for three days at 22 kW): the
-- column keeps only `>= 0`. Partitions were created with LIKE … INCLUDING CONSTRAINTS, so each holds its
-- own (merged) copy of the old check: drop those too.
ALTER TABLE meter_history DROP CONSTRAINT meter_history_kwh_consumed_ac_check;
DO $$
DECLARE r record;
BEGIN
  FOR r IN
    SELECT c.conrelid::regclass AS rel, c.conname
    FROM pg_constraint c JOIN pg_inherits i ON i.inhrelid = c.conrelid
    WHERE i.inhparent = 'meter_history'::regclass AND c.contype = 'c'
      AND c.conname = 'meter_history_kwh_consumed_ac_check'
  LOOP
    EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', r.rel, r.conname);
  END LOOP;
END $$;
ALTER TABLE meter_history ADD CONSTRAINT meter_history_kwh_consumed_ac_check CHECK (kwh_consumed_ac >= 0);

-- Per device-hour counts of the flags a meter summary reports (kept exact like the sums: materialised
-- by closeHours, and adjusted by the write transaction when a recomputation changes a row's flags).
ALTER TABLE meter_hourly
  ADD COLUMN energy_resets integer NOT NULL DEFAULT 0,
  ADD COLUMN energy_placeholders integer NOT NULL DEFAULT 0,
  ADD COLUMN energy_suspects integer NOT NULL DEFAULT 0;
