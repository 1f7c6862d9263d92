#!/bin/bash
# Health check of the energy-ingest Prometheus image (Dockerfile, target prometheus): exit 0 when
# Prometheus answers 200 on /-/ready (it has loaded its configuration and its storage). The image
# has no curl or wget, and Debian's promtool (2.42) has no `check ready`: plain HTTP over bash.
set -euo pipefail
exec 3<>"/dev/tcp/127.0.0.1/${PROMETHEUS_PORT:-9090}"
printf 'GET /-/ready HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
status=$(timeout 3 head -n 1 <&3 || true)
exec 3<&-
[[ "$status" == HTTP/1.?' 200'* ]]
