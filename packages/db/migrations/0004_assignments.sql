-- Which meter a vehicle charges from, over [valid_from, valid_to); valid_to NULL = open. An open
-- assignment is closed by the writer at the valid_from of the vehicle's next assignment.
CREATE TABLE vehicle_meter_assignments (
  vehicle_id text NOT NULL,
  meter_id text NOT NULL,
  valid_from timestamptz NOT NULL,
  valid_to timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (vehicle_id, valid_from),
  CHECK (valid_to IS NULL OR valid_to > valid_from)
);

CREATE INDEX vehicle_meter_assignments_meter_idx ON vehicle_meter_assignments (meter_id, valid_from);
