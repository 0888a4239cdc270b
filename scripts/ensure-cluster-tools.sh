#!/usr/bin/env bash
# Debian's nginx and redis-server for the cluster test (tests/test_cluster.py), installed with apt
# when missing. Only the binaries are used: the test runs its own instances on free ports.
set -euo pipefail
missing=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || missing+=(redis-server)
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
# Debian starts the packaged services on install; the cluster test runs its own instances.
for service in nginx redis-server; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$service" 2>/dev/null; then
    systemctl stop "$service" || true
  fi
done
