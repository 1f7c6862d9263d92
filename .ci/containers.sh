#!/usr/bin/env bash
# CI, containers part (after the local-process run of .ci/run):
#   1. a Docker engine: Debian's docker.io (installed only if missing), started here on a private
#      socket, data root and bridge, never on /var/run/docker.sock (TESTENV=auto elsewhere on the
#      machine would switch to it); stopped at the end by its PID
#   2. the project's images, without any registry (.ci/build-images.sh); layers and downloads cached
#      across runs and checkouts in $CI_CACHE_DIR (default ~/.cache/energy-ingest/ci)
#   3. the integration project with TESTENV=containers (testcontainers on those images)
#   4. the compose smoke test (scripts/compose-smoke.mjs): full topology up, readings in, exact
#      numbers out, down -v
# Where no engine can be had (not root, no apt, dockerd does not start) it skips, says so loudly and
# exits 0; once an engine runs, any failure fails CI.
#   CI_DOCKER_HOST=unix:///…   use that engine instead of starting one (it is not stopped)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export CI_CACHE_DIR=${CI_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/energy-ingest/ci}
part_started=$(date +%s)

say() { echo "[ci:containers] $*" >&2; }
banner() {
  local line='################################################################################'
  printf '\n%s\n' "$line" >&2
  local l
  for l in "$@"; do printf '## %s\n' "$l" >&2; done
  printf '%s\n\n' "$line" >&2
}
# One line for .ci/run to repeat at the end of the log.
REPORT=$ROOT/.cache/containers-part.txt
report() { mkdir -p "$(dirname "$REPORT")" 2>/dev/null && echo "$*" >"$REPORT" || true; }
rm -f "$REPORT" "$ROOT/.cache/test-results-containers.json"{,.exit} 2>/dev/null || true
skip_all() {
  banner "CONTAINERS PART SKIPPED: $1" \
    "Not proven by this run: the TESTENV=containers integration suite and the" \
    "docker compose smoke test. The local-process run above is unaffected."
  report "CONTAINERS PART SKIPPED: $1 (not proven: TESTENV=containers suite, compose smoke test)"
  exit 0
}
elapsed() { echo $(($(date +%s) - $1)); }
if [ -z "${CI_DOCKER_HOST:-}" ] && [ "$(id -u)" -ne 0 ]; then
  skip_all "starting a private Docker engine needs root; this run is uid $(id -u) (or set CI_DOCKER_HOST)"
fi
mkdir -p "$CI_CACHE_DIR" || skip_all "cannot create $CI_CACHE_DIR"

timings=()

# --- 1. the engine ---------------------------------------------------------------------------------
have() { command -v "$1" >/dev/null 2>&1; }
as_root() { [ "$(id -u)" -eq 0 ]; }

apt_install() {
  as_root && have apt-get || return 1
  say "apt-get install $* (Debian packages)…"
  # The package lists are refreshed only when the first attempt does not find the packages.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >"$CI_CACHE_DIR/apt.log" 2>&1 ||
    { apt-get update -q >>"$CI_CACHE_DIR/apt.log" 2>&1 &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >>"$CI_CACHE_DIR/apt.log" 2>&1; }
}

# Compose v2 and buildx are not in bookworm; trixie's .debs install on it (they need libc >= 2.34).
# Fetched with a sources list of their own, so the machine's apt sources stay as they are.
install_plugins_from_trixie() {
  as_root && have apt-get && have dpkg || return 1
  local dir=$CI_CACHE_DIR/trixie
  mkdir -p "$dir/lists/partial" "$dir/archives/partial" "$dir/debs" "$dir/parts"
  cat >"$dir/trixie.sources" <<'EOF'
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  local opts=(-o "Dir::Etc::sourcelist=$dir/trixie.sources" -o "Dir::Etc::sourceparts=$dir/parts"
    -o "Dir::State::Lists=$dir/lists" -o "Dir::Cache::Archives=$dir/archives" -q)
  say "docker compose / buildx plugins: downloading trixie's docker-compose and docker-buildx .debs…"
  (cd "$dir/debs" && apt-get "${opts[@]}" update >/dev/null 2>&1 &&
    apt-get "${opts[@]}" download docker-compose docker-buildx >/dev/null 2>&1) || return 1
  dpkg -i "$dir"/debs/docker-compose_*.deb "$dir"/debs/docker-buildx_*.deb >"$CI_CACHE_DIR/dpkg.log" 2>&1
}

ENGINE_PID=
ENGINE_DIR=
BRIDGE=
CGROUP=
stop_engine() {
  [ -n "$ENGINE_PID" ] || return 0
  say "stopping the Docker engine this run started (PID $ENGINE_PID)…"
  kill -TERM "$ENGINE_PID" 2>/dev/null || true
  local i
  for i in $(seq 1 60); do
    kill -0 "$ENGINE_PID" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$ENGINE_PID" 2>/dev/null; then kill -KILL "$ENGINE_PID" 2>/dev/null || true; fi
  ENGINE_PID=
  if [ -n "$BRIDGE" ]; then
    ip link delete "$BRIDGE" 2>/dev/null || true
    # dockerd leaves its bridge's NAT and forwarding rules behind when it stops.
    local table rule
    for table in nat filter; do
      iptables -t "$table" -S 2>/dev/null | grep -- "$BRIDGE" | sed 's/^-A /-D /' |
        while read -r -a rule; do iptables -t "$table" "${rule[@]}" 2>/dev/null || true; done
    done
  fi
  [ -z "$ENGINE_DIR" ] || rm -rf "$ENGINE_DIR"
  if [ -n "$CGROUP" ]; then
    # Empty cgroups (BuildKit's included), deepest first.
    local dir
    for dir in /sys/fs/cgroup/*/"$CGROUP" "/sys/fs/cgroup/$CGROUP"; do
      [ ! -d "$dir" ] || find "$dir" -depth -type d -exec rmdir {} \; 2>/dev/null || true
    done
  fi
}

# A previous run of this checkout killed before its end may have left its engine running.
stop_stale_engine() {
  local pidfile=$1/dockerd.pid pid
  [ -s "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  if [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$1/docker.sock"; then
    say "stopping the engine a previous run left behind (PID $pid)"
    ENGINE_PID=$pid ENGINE_DIR='' BRIDGE='' CGROUP='' stop_engine
  fi
}

start_engine() {
  have dockerd || apt_install docker.io || skip_all "no Docker engine, and docker.io could not be installed (root and apt-get needed; see $CI_CACHE_DIR/apt.log)"
  have dockerd || skip_all "docker.io installed but dockerd not found"
  as_root || skip_all "dockerd needs root; this run is uid $(id -u)"
  have ip || skip_all "ip (iproute2) not found: cannot make the engine's own bridge"
  # One engine per checkout: names from a hash of its path.
  local id
  id=$(printf '%s' "$ROOT" | sha1sum | cut -c1-8)
  ENGINE_DIR=/run/energy-ci-$id
  stop_stale_engine "$ENGINE_DIR"
  rm -rf "$ENGINE_DIR"
  mkdir -p "$ENGINE_DIR"
  # Its own bridge and address pool, clear of other engines and the host's routes.
  BRIDGE=eci$id
  ip link delete "$BRIDGE" 2>/dev/null || true
  local n subnet=
  for n in $(seq $((200 + 0x${id:0:2} % 40)) 250) $(seq 200 250); do
    if ! ip route | grep -q "^10\.$n\."; then
      subnet=$n
      break
    fi
  done
  [ -n "$subnet" ] || skip_all "no free 10.x.0.0/16 range for the engine's bridge"
  ip link add "$BRIDGE" type bridge && ip addr add "10.$subnet.0.1/24" dev "$BRIDGE" && ip link set "$BRIDGE" up ||
    skip_all "cannot create a network bridge (no CAP_NET_ADMIN?)"
  # The data root (image layers, build cache) persists across runs, unless another run holds it.
  local data_root=$CI_CACHE_DIR/docker
  exec 8>"$CI_CACHE_DIR/docker.lock"
  if ! flock -n 8; then
    data_root=$ENGINE_DIR/data
    say "another run uses $CI_CACHE_DIR/docker: this one builds without its cache"
  fi
  # The containers' CPU share. Under cgroup v1 every host process competes with its own weight
  # (1024) while all containers together get one group's: on a machine busy with other work, the
  # containers got a few percent of the CPU (a 1 M-row load took 37x longer than as local processes).
  # Their own parent cgroup weighs as much as 8 busy processes, about what the local servers get.
  CGROUP=energy-ci-$id
  local cgroup_opts=()
  if [ -w /sys/fs/cgroup/cpu ] && mkdir -p "/sys/fs/cgroup/cpu/$CGROUP" 2>/dev/null &&
    echo "${CI_CONTAINERS_CPU_SHARES:-8192}" >"/sys/fs/cgroup/cpu/$CGROUP/cpu.shares"; then
    cgroup_opts=(--cgroup-parent "/$CGROUP")
  elif [ -f /sys/fs/cgroup/cgroup.controllers ] && mkdir -p "/sys/fs/cgroup/$CGROUP" 2>/dev/null &&
    echo $((${CI_CONTAINERS_CPU_SHARES:-8192} * 100 / 1024)) >"/sys/fs/cgroup/$CGROUP/cpu.weight" 2>/dev/null; then
    cgroup_opts=(--cgroup-parent "/$CGROUP")
  else
    say "could not give the containers a cgroup of their own: they share the CPU as one process would"
  fi
  export DOCKER_HOST=unix://$ENGINE_DIR/docker.sock
  # --userland-proxy=false: published ports through iptables, not a copying proxy process.
  dockerd -H "$DOCKER_HOST" --data-root "$data_root" --exec-root "$ENGINE_DIR/exec" \
    --pidfile "$ENGINE_DIR/dockerd.pid" --storage-driver=overlay2 --bridge "$BRIDGE" \
    --default-address-pool "base=10.$subnet.0.0/16,size=24" --ip 127.0.0.1 --userland-proxy=false \
    "${cgroup_opts[@]}" >"$CI_CACHE_DIR/dockerd.log" 2>&1 8>&- &
  ENGINE_PID=$!
  local i
  for i in $(seq 1 120); do
    docker version >/dev/null 2>&1 && break
    kill -0 "$ENGINE_PID" 2>/dev/null || break
    sleep 0.5
  done
  if ! docker version >/dev/null 2>&1; then
    tail -n 20 "$CI_CACHE_DIR/dockerd.log" >&2
    stop_engine
    skip_all "dockerd did not start (log: $CI_CACHE_DIR/dockerd.log)"
  fi
  say "Docker engine $(docker version -f '{{.Server.Version}}') on $DOCKER_HOST (PID $ENGINE_PID, bridge $BRIDGE 10.$subnet.0.1/24)"
}

cleanup() {
  local status=$?
  if [ -n "${DOCKER_HOST:-}" ] && docker version >/dev/null 2>&1; then
    node packages/testenv/docker-cleanup.cjs all >&2 || true
    # The smoke test runs `down -v` itself; this is for when it was killed half-way.
    if [ -n "${COMPOSE_PROJECT:-}" ]; then
      local label=label=com.docker.compose.project=$COMPOSE_PROJECT
      docker ps -aq --filter "$label" | xargs -r docker rm -f -v >/dev/null 2>&1 || true
      docker volume ls -q --filter "$label" | xargs -r docker volume rm -f >/dev/null 2>&1 || true
      docker network ls -q --filter "$label" | xargs -r docker network rm >/dev/null 2>&1 || true
    fi
  fi
  stop_engine
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

t0=$(date +%s)
if [ -n "${CI_DOCKER_HOST:-}" ]; then
  export DOCKER_HOST=$CI_DOCKER_HOST
  docker version >/dev/null 2>&1 || skip_all "CI_DOCKER_HOST=$CI_DOCKER_HOST does not answer"
else
  start_engine
fi
have docker || skip_all "no docker command line"
docker buildx version >/dev/null 2>&1 && docker compose version >/dev/null 2>&1 || install_plugins_from_trixie ||
  true
docker buildx version >/dev/null 2>&1 ||
  skip_all "the docker buildx plugin is missing and could not be installed (the images need BuildKit)"
if [ -z "${DEBIAN_IMAGE:-}" ] && ! have debootstrap; then
  apt_install debootstrap || skip_all "debootstrap (for the Debian base image) could not be installed"
fi
timings+=("engine ready: $(elapsed "$t0") s")

# --- 2. images -------------------------------------------------------------------------------------
t0=$(date +%s)
bash .ci/build-images.sh
timings+=("images: $(elapsed "$t0") s")

# --- 3. TESTENV=containers integration suite ---------------------------------------------------------
t0=$(date +%s)
node packages/testenv/docker-cleanup.cjs all >&2
status=0
TESTENV=containers node_modules/.bin/vitest run --project integration --reporter=default --reporter=json \
  --outputFile.json=.cache/test-results-containers.json </dev/null || status=$?
# Beside the report: an unhandled error fails the run with every test passed (scripts/run.mjs summary).
echo "$status" >.cache/test-results-containers.json.exit
node packages/testenv/docker-cleanup.cjs all >&2
timings+=("TESTENV=containers suite: $(elapsed "$t0") s (exit $status)")
if [ -s .cache/test-results-containers.json ]; then
  node -e '
    const r = require(process.argv[1]);
    const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
    console.log(`containers tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
  ' "$ROOT/.cache/test-results-containers.json"
fi

# --- 4. compose smoke test ---------------------------------------------------------------------------
t0=$(date +%s)
compose_status=0
if docker compose version >/dev/null 2>&1; then
  export COMPOSE_PROJECT=energy-ci-smoke
  node scripts/compose-smoke.mjs --project "$COMPOSE_PROJECT" </dev/null || compose_status=$?
  timings+=("compose smoke test: $(elapsed "$t0") s (exit $compose_status)")
else
  banner "COMPOSE SMOKE TEST SKIPPED: no docker compose v2 plugin, and trixie's docker-compose" \
    ".deb could not be installed. The TESTENV=containers suite above did run."
  timings+=("COMPOSE SMOKE TEST SKIPPED (no compose v2 plugin)")
fi

say "timings: ${timings[*]/%/;}"
say "containers part: $(elapsed "$part_started") s"
report "containers part: $(elapsed "$part_started") s; ${timings[*]/%/;}"
[ "$status" -eq 0 ] && [ "$compose_status" -eq 0 ]
