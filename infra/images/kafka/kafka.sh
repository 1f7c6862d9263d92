#!/bin/bash
# Entry point of the energy-ingest Kafka image (Dockerfile, target kafka): one KRaft node (broker +
# controller) on the jars of infra/kafka/pom.xml, configured like the local test broker.
#
#   kafka broker   (default) writes server.properties and runs the broker; formats the log folder on
#                  first start (cluster id: CLUSTER_ID, or a random one)
#   kafka topics   creates TOPICS (space-separated) with PREFIX, PARTITIONS on BOOTSTRAP_SERVERS;
#                  idempotent, waits for the broker
#   kafka health   exit 0 when the broker answers an ApiVersions request on 127.0.0.1:${HEALTH_PORT:-9092}
#
# Configuration: infra/kafka/server.properties (the local broker's) with the listeners opened to the
# container network, then every KAFKA_* variable as a property, the way the apache/kafka image maps
# them: KAFKA_ADVERTISED_LISTENERS -> advertised.listeners (`_` -> `.`, `__` -> `_`, `___` -> `-`).
# KAFKA_HEAP_OPTS (default -Xms256m -Xmx1g) and KAFKA_OPTS go to the JVM.
set -euo pipefail

HOME_DIR=/opt/kafka
CLASSPATH="$HOME_DIR/libs/*"
CONFIG=/var/lib/kafka/server.properties
LOG4J="-Dlog4j2.configurationFile=$HOME_DIR/config/log4j2.properties"
JVM_TOOL_OPTS=(-Xms64m -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Djava.awt.headless=true "$LOG4J")

say() { echo "kafka: $*" >&2; }

property_name() {
  local name=${1#KAFKA_}
  name=${name,,}
  name=${name//___/-}
  name=${name//__/@}
  name=${name//_/.}
  printf '%s' "${name//@/_}"
}

write_config() {
  local log_dir=${KAFKA_LOG_DIRS:-/var/lib/kafka/data}
  sed -e 's/${BROKER_PORT}/9092/g' -e 's/${CONTROLLER_PORT}/9093/g' -e "s|\${LOG_DIR}|$log_dir|g" \
    -e "s/\${NUM_PARTITIONS}/${PARTITIONS:-12}/g" "$HOME_DIR/config/server.properties" >"$CONFIG"
  {
    echo
    echo '# container defaults (kafka.sh)'
    echo 'listeners=PLAINTEXT://:9092,CONTROLLER://:9093'
    echo "advertised.listeners=PLAINTEXT://$(hostname):9092"
    echo '# from KAFKA_* variables'
    local var
    while IFS= read -r var; do
      case "$var" in KAFKA_HEAP_OPTS | KAFKA_OPTS | KAFKA_JVM_PERFORMANCE_OPTS | KAFKA_LOG4J_OPTS) continue ;; esac
      echo "$(property_name "$var")=${!var}"
    done < <(compgen -e | grep '^KAFKA_' || true)
  } >>"$CONFIG"
}

broker() {
  write_config
  local log_dir
  log_dir=$(grep '^log.dirs=' "$CONFIG" | tail -n 1 | cut -d= -f2-)
  mkdir -p "$log_dir"
  if [ ! -e "$log_dir/meta.properties" ]; then
    local id=${CLUSTER_ID:-$(java "${JVM_TOOL_OPTS[@]}" -cp "$CLASSPATH" kafka.tools.StorageTool random-uuid)}
    java "${JVM_TOOL_OPTS[@]}" -cp "$CLASSPATH" kafka.tools.StorageTool format --cluster-id="$id" \
      -c "$CONFIG" >/dev/null
    say "formatted $log_dir (cluster id $id)"
  fi
  # shellcheck disable=SC2086 # the *_OPTS variables are lists of JVM options
  exec java ${KAFKA_HEAP_OPTS:--Xms256m -Xmx1g} -XX:+UseG1GC -Djava.awt.headless=true "$LOG4J" \
    ${KAFKA_OPTS:-} -cp "$CLASSPATH" kafka.Kafka "$CONFIG"
}

topics() {
  local bootstrap=${BOOTSTRAP_SERVERS:-kafka:9092} topic
  : "${TOPICS:?TOPICS is required}"
  # Wait for the broker first: the tool would log a warning per failed connection attempt.
  until answers "${bootstrap%%,*}"; do sleep 1; done
  for topic in $TOPICS; do
    until java "${JVM_TOOL_OPTS[@]}" -cp "$CLASSPATH" org.apache.kafka.tools.TopicCommand \
      --bootstrap-server "$bootstrap" --create --if-not-exists --topic "${PREFIX:-}$topic" \
      --partitions "${PARTITIONS:-12}" --replication-factor 1 2>&1 |
      { grep -v '^WARNING: Due to limitations in metric names' || true; }; do
      say "creating ${PREFIX:-}$topic failed; retrying in 2 s"
      sleep 2
    done
  done
  java "${JVM_TOOL_OPTS[@]}" -cp "$CLASSPATH" org.apache.kafka.tools.TopicCommand \
    --bootstrap-server "$bootstrap" --describe --exclude-internal | grep -E '^Topic:' || true
}

# Whether the broker at host:port answers an ApiVersions request (v0: length 12, api_key 18,
# api_version 0, correlation_id 1, client_id "hc"). The answer starts with its length, correlation_id 1
# and error_code 0. A KRaft broker serves requests only once it has started.
answers() {
  local reply
  exec 3<>"/dev/tcp/${1%:*}/${1##*:}" 2>/dev/null || return 1
  printf '\x00\x00\x00\x0c\x00\x12\x00\x00\x00\x00\x00\x01\x00\x02hc' >&3
  reply=$(timeout 5 head -c 10 <&3 | od -An -tx1 | tr -d ' \n') || true
  exec 3<&-
  [ "${reply:8:12}" = 000000010000 ]
}

case "${1:-broker}" in
  broker) broker ;;
  topics) topics ;;
  health) answers "127.0.0.1:${HEALTH_PORT:-9092}" ;;
  java) exec "$@" ;;
  *)
    say "usage: kafka broker | kafka topics | kafka health"
    exit 2
    ;;
esac
