#!/bin/bash
# Entry point of the energy-ingest PostgreSQL image (Dockerfile, target postgres). The image holds the
# @embedded-postgres build (initdb, pg_ctl, postgres: no psql, no pg_basebackup), so a replica is made
# the way the local test environment makes it: a cold copy of the primary's cluster taken while no
# server runs on it, plus standby.signal and primary_conninfo.
#
#   pg init     one-shot, before the primary's first start; mounts the primary's volume on
#               /var/lib/postgresql and the replica's on /replica. Creates the cluster ($PGDATA),
#               its roles and database, then the replica's copy ($REPLICA_DATA). A no-op when both
#               exist; re-clones a missing replica only while the primary is stopped.
#   pg server [postgres options]   runs the server on $PGDATA (a replica when standby.signal is there)
#   pg health   exit 0 when the server accepts connections (postmaster.pid's status line) and, for a
#               replica, its WAL receiver is streaming (its process title): no client needed
#
# Settings of `pg init` (environment):
#   POSTGRES_AUTH          scram-sha-256 (default) or trust (throw-away test clusters only)
#   POSTGRES_DB            database to create (default: none; the `postgres` database always exists)
#   REPLICATION_PASSWORD   password of the `replicator` role the replica streams with (required
#                          unless trust)
#   WRITER_PASSWORD        with POSTGRES_DB: role energy_writer, owner of that database (migrations,
#                          writes, monthly partitions)
#   ANALYTICS_PASSWORD     with POSTGRES_DB: role energy_analytics, read-only (SELECT on what
#                          energy_writer creates, default_transaction_read_only)
#   PRIMARY_HOST, PRIMARY_PORT   where the replica streams from (default pg-primary:5432)
# The superuser `postgres` has no password and may log in only over the local socket.
set -euo pipefail

: "${PGDATA:=/var/lib/postgresql/data}"
: "${REPLICA_DATA:=/replica/data}"

say() { echo "pg: $*" >&2; }
die() {
  say "$*"
  exit 1
}
# A string as an SQL literal (standard_conforming_strings: only quotes are doubled).
literal() { printf "'%s'" "${1//\'/\'\'}"; }
# A string as a postgresql.conf value (backslash escapes too).
conf_literal() {
  local v=${1//\\/\\\\}
  printf "'%s'" "${v//\'/\'\'}"
}
# A string as a libpq connection-string value.
conn_value() {
  local v=${1//\\/\\\\}
  printf "'%s'" "${v//\'/\\\'}"
}

# Runs SQL statements (one per line) in single-user mode on $PGDATA; fails on any error.
single_user() {
  local db=$1 out
  out=$(postgres --single -D "$PGDATA" -c listen_addresses= "$db" 2>&1) || die "single-user mode failed: $out"
  if grep -E '(ERROR|FATAL|PANIC):' <<<"$out" >/dev/null; then die "SQL failed: $(grep -E '(ERROR|FATAL|PANIC):' <<<"$out")"; fi
}

settings() {
  cat <<'CONF'

# energy-ingest (pg init): a primary that a hot standby streams from
listen_addresses = '*'
unix_socket_directories = '/run/postgresql'
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
wal_keep_size = 1024MB
hot_standby = on
hot_standby_feedback = on
max_connections = 200
max_wal_size = 4GB
# Analytics reads a replica that is being written: cancel long standby conflicts late, not early.
max_standby_streaming_delay = 30s
log_min_messages = warning
log_connections = off
CONF
}

clone_replica() {
  rm -rf "$REPLICA_DATA"
  cp -a "$PGDATA" "$REPLICA_DATA"
  rm -f "$REPLICA_DATA/postmaster.pid" "$REPLICA_DATA/postmaster.opts"
  touch "$REPLICA_DATA/standby.signal"
  local conninfo="host=${PRIMARY_HOST:-pg-primary} port=${PRIMARY_PORT:-5432} user=replicator application_name=replica"
  if [ "$AUTH" != trust ]; then conninfo+=" password=$(conn_value "$REPLICATION_PASSWORD")"; fi
  printf "primary_conninfo = %s\n" "$(conf_literal "$conninfo")" >>"$REPLICA_DATA/postgresql.auto.conf"
  chmod 700 "$REPLICA_DATA"
  say "replica: cold copy of the primary's cluster in $REPLICA_DATA"
}

init() {
  AUTH=${POSTGRES_AUTH:-scram-sha-256}
  case "$AUTH" in trust | scram-sha-256) ;; *) die "POSTGRES_AUTH must be scram-sha-256 or trust" ;; esac
  if [ -s "$PGDATA/PG_VERSION" ]; then
    if [ -s "$REPLICA_DATA/PG_VERSION" ]; then
      say "both clusters exist: nothing to do"
      return
    fi
    # A copy is a valid standby only when no server runs on the primary's cluster (clean shutdown).
    [ ! -e "$PGDATA/postmaster.pid" ] ||
      die "the replica's volume is empty but the primary is running (or crashed): stop it and run again, or start over (docker compose down -v)"
    clone_replica
    return
  fi
  if [ "$AUTH" != trust ]; then
    : "${REPLICATION_PASSWORD:?REPLICATION_PASSWORD is required (or POSTGRES_AUTH=trust for a throw-away cluster)}"
  fi
  if [ -n "${WRITER_PASSWORD:-}${ANALYTICS_PASSWORD:-}" ]; then
    : "${POSTGRES_DB:?POSTGRES_DB is required with WRITER_PASSWORD / ANALYTICS_PASSWORD}"
    : "${WRITER_PASSWORD:?WRITER_PASSWORD is required with ANALYTICS_PASSWORD}"
    : "${ANALYTICS_PASSWORD:?ANALYTICS_PASSWORD is required with WRITER_PASSWORD}"
  fi

  rm -rf "$PGDATA"
  initdb -D "$PGDATA" -U postgres --auth-local=peer --auth-host="$AUTH" --locale=C -E UTF8 \
    --no-instructions >/dev/null
  settings >>"$PGDATA/postgresql.conf"
  if [ "$AUTH" = trust ]; then
    cat >"$PGDATA/pg_hba.conf" <<'HBA'
# Throw-away test cluster (POSTGRES_AUTH=trust): anyone on the container network.
local all all trust
host all all all trust
host replication all all trust
HBA
  else
    cat >"$PGDATA/pg_hba.conf" <<'HBA'
# TYPE  DATABASE     USER                              ADDRESS  METHOD
local   all          postgres                                   peer
host    replication  replicator                        all      scram-sha-256
HBA
    if [ -n "${POSTGRES_DB:-}" ] && [ -n "${WRITER_PASSWORD:-}" ]; then
      printf 'host    %-12s %-33s all      scram-sha-256\n' "$POSTGRES_DB" energy_writer,energy_analytics \
        >>"$PGDATA/pg_hba.conf"
    fi
  fi

  {
    echo "CREATE ROLE replicator WITH REPLICATION LOGIN${REPLICATION_PASSWORD:+ PASSWORD $(literal "$REPLICATION_PASSWORD")}"
    if [ -n "${WRITER_PASSWORD:-}" ]; then
      echo "CREATE ROLE energy_writer LOGIN PASSWORD $(literal "$WRITER_PASSWORD")"
      echo "CREATE ROLE energy_analytics LOGIN PASSWORD $(literal "$ANALYTICS_PASSWORD")"
      echo "ALTER ROLE energy_analytics SET default_transaction_read_only = on"
      echo "CREATE DATABASE \"$POSTGRES_DB\" OWNER energy_writer"
    elif [ -n "${POSTGRES_DB:-}" ]; then
      echo "CREATE DATABASE \"$POSTGRES_DB\""
    fi
  } | single_user postgres
  if [ -n "${WRITER_PASSWORD:-}" ]; then
    {
      echo "REVOKE ALL ON DATABASE \"$POSTGRES_DB\" FROM PUBLIC"
      echo "GRANT CONNECT ON DATABASE \"$POSTGRES_DB\" TO energy_analytics"
      echo "REVOKE CREATE ON SCHEMA public FROM PUBLIC"
      echo "GRANT USAGE ON SCHEMA public TO energy_analytics"
      echo "ALTER DEFAULT PRIVILEGES FOR ROLE energy_writer IN SCHEMA public GRANT SELECT ON TABLES TO energy_analytics"
    } | single_user "$POSTGRES_DB"
  fi
  say "primary: cluster created in $PGDATA (auth $AUTH${POSTGRES_DB:+, database $POSTGRES_DB})"
  clone_replica
}

server() {
  [ -s "$PGDATA/PG_VERSION" ] || die "no cluster in $PGDATA: run \`pg init\` first (compose: the pg-init service)"
  # A container stopped hard leaves postmaster.pid behind; no other server can use this volume.
  rm -f "$PGDATA/postmaster.pid"
  exec postgres -D "$PGDATA" "$@"
}

health() {
  local pidfile="$PGDATA/postmaster.pid" status
  [ -r "$pidfile" ] || exit 1
  status=$(sed -n 8p "$pidfile" | tr -d ' ')
  if [ -e "$PGDATA/standby.signal" ]; then
    # A hot standby accepting connections reports "standby" or (PostgreSQL 18) "ready".
    [ "$status" = standby ] || [ "$status" = ready ] || exit 1
    # The WAL receiver's process title says "streaming" once it is connected to the primary.
    local f title
    for f in /proc/[0-9]*/cmdline; do
      title=$(tr '\0' ' ' <"$f" 2>/dev/null) || continue
      if [[ $title == *'walreceiver streaming'* ]]; then exit 0; fi
    done
    exit 1
  fi
  [ "$status" = ready ]
}

case "${1:-server}" in
  init) init ;;
  server)
    shift || true
    server "$@"
    ;;
  health) health ;;
  postgres | initdb | pg_ctl) exec "$@" ;;
  *) die "usage: pg init | pg server [postgres options] | pg health" ;;
esac
