-- Assignments as sent: one per (vehicle, valid_from), a later one with the same key replacing it, with
-- the order they were applied in (seq). upsertAssignments (src/assignments.ts) derives each vehicle's
-- timeline from them into vehicle_meter_assignments, which analytics reads and which never overlaps.
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE vehicle_meter_assignment_log (
  vehicle_id text NOT NULL,
  valid_from timestamptz NOT NULL,
  meter_id text NOT NULL,
  valid_to timestamptz,
  seq bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (vehicle_id, valid_from),
  CHECK (valid_to IS NULL OR valid_to > valid_from)
);

-- Rows stored before this migration may overlap: each is cut where the vehicle's next one (by
-- valid_from) begins, then carried over as sent, in valid_from order.
UPDATE vehicle_meter_assignments a SET valid_to = n.next_from, updated_at = now()
  FROM (
    SELECT vehicle_id, valid_from,
      lead(valid_from) OVER (PARTITION BY vehicle_id ORDER BY valid_from) AS next_from
    FROM vehicle_meter_assignments
  ) n
 WHERE a.vehicle_id = n.vehicle_id AND a.valid_from = n.valid_from AND n.next_from IS NOT NULL
   AND (a.valid_to IS NULL OR a.valid_to > n.next_from);

INSERT INTO vehicle_meter_assignment_log (vehicle_id, valid_from, meter_id, valid_to, seq, updated_at)
SELECT vehicle_id, valid_from, meter_id, valid_to,
       row_number() OVER (PARTITION BY vehicle_id ORDER BY valid_from), updated_at
  FROM vehicle_meter_assignments;

-- A vehicle's intervals never overlap (a NULL valid_to is unbounded).
ALTER TABLE vehicle_meter_assignments ADD CONSTRAINT vehicle_meter_assignments_no_overlap
  EXCLUDE USING gist (vehicle_id WITH =, tstzrange(valid_from, valid_to) WITH &&);
