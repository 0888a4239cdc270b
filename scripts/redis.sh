#!/usr/bin/env bash
# A project-local Redis (Debian's redis-server) for the shared cache, like scripts/pg.sh.
#
#   scripts/redis.sh start dev|test   start it on 127.0.0.1 (installs redis-server with apt if missing)
#   scripts/redis.sh stop  dev|test
#   scripts/redis.sh url   dev|test   print the REDIS_URL for it
#
# Ports: $HANDBOOK_REDIS_PORT (dev, default 25330) and $HANDBOOK_TEST_REDIS_PORT (test, default
# 25331). It is a cache: nothing is written to disk, and losing it loses nothing.
set -euo pipefail

cmd=${1:?usage: redis.sh start|stop|url dev|test}
mode=${2:-dev}
case "$mode" in
  dev) port=${HANDBOOK_REDIS_PORT:-25330}; db=0 ;;
  test) port=${HANDBOOK_TEST_REDIS_PORT:-25331}; db=1 ;;
  *) echo "redis.sh: mode must be dev or test" >&2; exit 2 ;;
esac
project=$(cd "$(dirname "$0")/.." && pwd)
base="$project/.redis"
pidfile="$base/$mode.pid"

if [ "$cmd" = url ]; then
  echo "redis://127.0.0.1:${port}/${db}"
  exit 0
fi

find_server() { command -v redis-server || ls /usr/bin/redis-server 2>/dev/null || true; }

running() { [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

case "$cmd" in
  start)
    server=$(find_server)
    if [ -z "$server" ]; then
      if [ "$(id -u)" -ne 0 ]; then
        echo "redis.sh: redis-server is missing; install Debian's 'redis-server'." >&2
        exit 1
      fi
      echo "redis.sh: installing redis-server with apt ..." >&2
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq >/dev/null
      apt-get install -y -qq redis-server >/dev/null
      server=$(find_server)
    fi
    mkdir -p "$base"
    if ! running; then
      "$server" --bind 127.0.0.1 --port "$port" --daemonize yes --pidfile "$pidfile" \
        --dir "$base" --logfile "$base/$mode.log" --save "" --appendonly no \
        --maxmemory 256mb --maxmemory-policy allkeys-lru
      for _ in $(seq 50); do running && break; sleep 0.1; done
    fi
    echo "Redis ($mode) on 127.0.0.1:$port" >&2
    ;;
  stop)
    if running; then kill "$(cat "$pidfile")"; fi
    ;;
  *) echo "redis.sh: unknown command $cmd" >&2; exit 2 ;;
esac
