#!/bin/bash
# Streaming replica for docker compose: on an empty volume, clone the primary with pg_basebackup -R
# (writes standby.signal + primary_conninfo), then run postgres as a hot standby. On later starts the
# existing data directory is reused and the standby resumes streaming from where it stopped.
# Runs as the postgres user (compose sets `user: postgres`); its arguments go to postgres (-c ...).
set -euo pipefail
: "${PGDATA:=/var/lib/postgresql/18/docker}"
: "${PRIMARY_HOST:=pg-primary}"
: "${PRIMARY_PORT:=5432}"
: "${REPLICATION_USER:=replicator}"
: "${REPLICATION_PASSWORD:?REPLICATION_PASSWORD is required}"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  mkdir -p "$(dirname "$PGDATA")"
  rm -rf "$PGDATA"
  export PGPASSWORD="$REPLICATION_PASSWORD"
  # The primary may still be running its init scripts (the replication role comes from one of them).
  until pg_basebackup --host="$PRIMARY_HOST" --port="$PRIMARY_PORT" --username="$REPLICATION_USER" \
    --pgdata="$PGDATA" --write-recovery-conf --wal-method=stream --checkpoint=fast --no-password; do
    echo "replica: primary not ready for a base backup yet; retrying in 2 s" >&2
    rm -rf "$PGDATA"
    sleep 2
  done
  unset PGPASSWORD
  chmod 700 "$PGDATA"
  echo "replica: base backup done" >&2
fi

# compose passes the primary's command (`postgres -c …`): keep its settings, drop the program name.
if [ "${1:-}" = postgres ]; then shift; fi
exec postgres -D "$PGDATA" -c hot_standby=on "$@"
