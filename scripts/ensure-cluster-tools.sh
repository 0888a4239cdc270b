#!/usr/bin/env bash
# Debian's nginx, redis-server and pgbouncer for the cluster tests (tests/test_cluster.py and
# tests/test_deployment.py), installed with apt when missing. Only the binaries are used: the tests
# run their own instances on free ports. Further tools named as arguments (package = command, as
# `wrk` for `make bench`) are installed the same way.
set -euo pipefail
missing=()
for tool in "$@"; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || missing+=(redis-server)
command -v pgbouncer >/dev/null 2>&1 || [ -x /usr/sbin/pgbouncer ] || missing+=(pgbouncer)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "ensure-cluster-tools: install ${missing[*]} (Debian packages)" >&2
    exit 1
  fi
  echo "ensure-cluster-tools: installing ${missing[*]} with apt ..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# Debian starts the packaged services on install; the cluster tests run their own instances.
for service in nginx redis-server pgbouncer; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$service" 2>/dev/null; then
    systemctl stop "$service" || true
  fi
done
