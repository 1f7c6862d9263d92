#!/bin/bash
# Runs once, on the primary's first start (docker-entrypoint-initdb.d): the role the replica streams
# WAL with, and the pg_hba line that lets it. Everything else is the official image's default.
set -euo pipefail
: "${REPLICATION_PASSWORD:?REPLICATION_PASSWORD is required}"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v password="$REPLICATION_PASSWORD" <<'SQL'
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'password';
SQL

echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
