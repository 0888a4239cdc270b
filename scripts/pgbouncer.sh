#!/usr/bin/env bash
# Run a command with DATABASE_URL pointing at a throwaway PgBouncer in transaction-pooling mode in
# front of the project-local test cluster, then stop PgBouncer again.
#
#   scripts/pgbouncer.sh run -- COMMAND [ARGS...]
#
# `make test` uses it to run part of the suite through the pooler, proving that Håndboka keeps no
# session state on a server connection (no session-level SET outside a transaction, no server-side
# cursor outside a transaction, no advisory locks or LISTEN held across transactions).
#
# PgBouncer listens on a free port chosen at run time; the database name `handbook_pooled` (and the
# test database pytest-django derives from it, `test_handbook_pooled`) are passed through to the
# test cluster on $HANDBOOK_TEST_PG_PORT. PgBouncer refuses to run as root, so it runs as the
# `postgres` user then (as scripts/pg.sh does for PostgreSQL). It is installed with apt when missing.
set -euo pipefail

cmd=${1:?usage: pgbouncer.sh run -- COMMAND [ARGS...]}
shift
[ "${1:-}" = "--" ] && shift
[ "$cmd" = run ] || { echo "pgbouncer.sh: unknown command $cmd" >&2; exit 2; }

project=$(cd "$(dirname "$0")/.." && pwd)
target_port=${HANDBOOK_TEST_PG_PORT:-25321}

bin=$(command -v pgbouncer || ls /usr/sbin/pgbouncer 2>/dev/null || true)
if [ -z "$bin" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "pgbouncer.sh: pgbouncer is missing; install the Debian package 'pgbouncer'." >&2
    exit 1
  fi
  echo "pgbouncer.sh: installing pgbouncer with apt ..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq pgbouncer >/dev/null
  # Debian starts a system-wide PgBouncer on 6432; this project never uses it.
  (systemctl stop pgbouncer || service pgbouncer stop) >/dev/null 2>&1 || true
  bin=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)
fi

as_pg=()
if [ "$(id -u)" -eq 0 ]; then as_pg=(runuser -u postgres --); fi

# Chosen as the tests choose theirs (tests/ports.py): below the range of outgoing connections.
port=$(cd "$project" && python3 -c 'from tests.ports import free_port; print(free_port())')
base="$project/.pg"
if [ "$(id -u)" -eq 0 ] && ! runuser -u postgres -- test -x "$project"; then
  base="/var/tmp/handbook-pg-$(echo -n "$project" | sha1sum | cut -c1-12)"
fi
dir="$base/pgbouncer-$port"
mkdir -p "$dir"
echo '"postgres" ""' >"$dir/users.txt"
cat >"$dir/pgbouncer.ini" <<INI
[databases]
* = host=127.0.0.1 port=$target_port

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
pool_mode = transaction
; The local test cluster trusts 127.0.0.1; production uses scram-sha-256 (docs/deployment.md).
auth_type = trust
auth_file = $dir/users.txt
admin_users = postgres
max_client_conn = 400
default_pool_size = 8
; psycopg sends no startup options PgBouncer does not track itself.
ignore_startup_parameters = extra_float_digits
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
[ "${#as_pg[@]}" -gt 0 ] && chown -R postgres: "$dir"

"${as_pg[@]}" "$bin" -d "$dir/pgbouncer.ini"
stop() {
  if [ -s "$dir/pgbouncer.pid" ]; then kill "$(cat "$dir/pgbouncer.pid")" 2>/dev/null || true; fi
  sleep 0.2
  rm -rf "$dir"
}
trap stop EXIT
for _ in $(seq 100); do
  if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null; then break; fi
  sleep 0.1
done
echo "PgBouncer (transaction pooling) on 127.0.0.1:$port -> 127.0.0.1:$target_port" >&2

# A database left by an earlier pooled run is dropped directly on the cluster (not through the
# pooler, which may hold server connections to it); pytest-django then creates it again.
PGOPTIONS="-c client_min_messages=warning" "${as_pg[@]}" "$(ls -d /usr/lib/postgresql/*/bin | sort -V -r | head -1)/psql" -h 127.0.0.1 \
  -p "$target_port" -U postgres -d postgres -Atq \
  -c "DROP DATABASE IF EXISTS test_handbook_pooled WITH (FORCE)" >/dev/null

DATABASE_URL="postgres://postgres@127.0.0.1:$port/handbook_pooled" DB_TRANSACTION_POOLING=true "$@"
