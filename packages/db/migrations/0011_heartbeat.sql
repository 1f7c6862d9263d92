-- One row, touched by every writer on a timer: the replica's lag is now() minus the replayed beat.
CREATE TABLE writer_heartbeat (
  id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  beat_at timestamptz NOT NULL
);
INSERT INTO writer_heartbeat (id, beat_at) VALUES (1, now());
