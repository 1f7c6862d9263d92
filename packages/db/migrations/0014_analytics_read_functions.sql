-- What every analytics answer reads besides its data, as functions, so that one statement carries it
-- with the aggregates: one round trip, and (STABLE functions see the snapshot of the statement that
-- calls them) one snapshot, with no explicit transaction.

-- The rollup watermark of a kind (see rollup_watermarks); without a row nothing is known to be complete,
-- so everything is read from history ('-infinity').
CREATE FUNCTION analytics_closed_before(k text) RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT COALESCE((SELECT closed_before FROM rollup_watermarks WHERE kind = k), '-infinity'::timestamptz)
$$;

-- Everything the primary committed before this time is visible. On a replica: the later of the last
-- replayed commit and the replayed writer heartbeat (which survives a restart of the replica, when
-- pg_last_xact_replay_timestamp() is NULL until the next commit is replayed); on a primary: the start
-- of the transaction. NULL when a replica cannot tell.
CREATE FUNCTION analytics_as_of() RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN pg_is_in_recovery()
              THEN GREATEST(pg_last_xact_replay_timestamp(), (SELECT beat_at FROM writer_heartbeat WHERE id = 1))
              ELSE now() END
$$;
