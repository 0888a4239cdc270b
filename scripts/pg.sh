#!/usr/bin/env bash
# A project-local PostgreSQL cluster for development and tests.
#
#   scripts/pg.sh start dev|test|failure   initialise (first time) and start the cluster, create the database
#   scripts/pg.sh stop  dev|test|failure   stop it (data is kept)
#   scripts/pg.sh url   dev|test|failure   print the DATABASE_URL for it
#   scripts/pg.sh status dev|test|failure
#   scripts/pg.sh bindir                   print PostgreSQL's server binary folder (installing it first)
#   scripts/pg.sh base                     print the folder the clusters live in (reachable by postgres)
#
# "failure" is a throwaway cluster that tests/test_failures.py starts and stops under a running
# portal (port $HANDBOOK_FAILURE_PG_PORT, by default the test port + 1, i.e. 25322).
#
# PostgreSQL's initdb and postgres refuse to run as root, so when this script runs as root every
# PostgreSQL binary is run as the 'postgres' system user. The "dev" cluster keeps PostgreSQL's
# durability defaults (it holds people's confirmations); the "test" cluster trades durability for speed.
set -euo pipefail

cmd=${1:?usage: pg.sh start|stop|status|url dev|test|failure}
mode=${2:-dev}
case "$mode" in
  dev) port=${HANDBOOK_PG_PORT:-25320} ;;
  test) port=${HANDBOOK_TEST_PG_PORT:-25321} ;;
  failure) port=${HANDBOOK_FAILURE_PG_PORT:-$(( ${HANDBOOK_TEST_PG_PORT:-25321} + 1 ))} ;;
  *) echo "pg.sh: mode must be dev, test or failure" >&2; exit 2 ;;
esac
dbname=handbook
project=$(cd "$(dirname "$0")/.." && pwd)

if [ "$cmd" = url ]; then
  echo "postgres://postgres@127.0.0.1:${port}/${dbname}"
  exit 0
fi

find_bindir() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return 0; fi
  done
  return 1
}

bindir=$(find_bindir || true)
if [ -z "$bindir" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "pg.sh: PostgreSQL server binaries are missing; install 'postgresql postgresql-contrib'." >&2
    exit 1
  fi
  echo "pg.sh: installing PostgreSQL server packages with apt ..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq postgresql postgresql-contrib >/dev/null
  bindir=$(find_bindir)
fi

# Norwegian compound splitting (policies/migrations/0005_search_config.py): Debian's hunspell-no,
# converted by postgresql-common's pg_updatedicts into tsearch_data/nb_no.{affix,dict}. Without
# them the migration falls back to plain Snowball stemming, so this is best effort.
sharedir=$(dirname "$bindir" | sed "s|/lib/|/share/|")
if [ ! -e "$sharedir/tsearch_data/nb_no.affix" ]; then
  if [ "$(id -u)" -eq 0 ]; then
    if [ ! -e /usr/share/hunspell/nb_NO.aff ]; then
      echo "pg.sh: installing hunspell-no (Norwegian dictionary for search) with apt ..." >&2
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq >/dev/null || true
      apt-get install -y -qq hunspell-no >/dev/null || true
    fi
    command -v pg_updatedicts >/dev/null && pg_updatedicts >/dev/null 2>&1 || true
  else
    echo "pg.sh: $sharedir/tsearch_data/nb_no.affix is missing; search will not split compounds" \
      "(install hunspell-no and run pg_updatedicts as root)." >&2
  fi
fi

as_pg=()
owner=$(id -un)
if [ "$(id -u)" -eq 0 ]; then
  as_pg=(runuser -u postgres --)
  owner=postgres
fi

# The data directory lives in the project (ignored by git) when the postgres user can reach it;
# a clone under a private home directory falls back to a folder under /var/tmp named after the project.
base="$project/.pg"
if [ "$owner" = postgres ] && ! runuser -u postgres -- test -x "$project"; then
  base="/var/tmp/handbook-pg-$(echo -n "$project" | sha1sum | cut -c1-12)"
fi
datadir="$base/$mode"
case "$cmd" in
  bindir) echo "$bindir"; exit 0 ;;
  base) mkdir -p "$base"; [ "$owner" = postgres ] && chown postgres: "$base"; echo "$base"; exit 0 ;;
esac
logfile="$base/$mode.log"

running() { "${as_pg[@]}" "$bindir/pg_ctl" -D "$datadir" status >/dev/null 2>&1; }

case "$cmd" in
  start)
    mkdir -p "$base"
    [ "$owner" = postgres ] && chown postgres: "$base"
    if [ ! -s "$datadir/PG_VERSION" ]; then
      "${as_pg[@]}" "$bindir/initdb" -D "$datadir" --username=postgres --auth=trust \
        --encoding=UTF8 --locale=C.UTF-8 --text-search-config=norwegian >/dev/null
    fi
    if ! running; then
      # initdb --text-search-config=pg_catalog.norwegian once wrote 'pg_catalog.pg_catalog.norwegian'
      # into postgresql.conf, which every parallel worker then refuses: set it right on start.
      opts="-p $port -c listen_addresses=127.0.0.1 -k $base -c default_text_search_config=pg_catalog.norwegian"
      if [ "$mode" != dev ]; then
        opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
      fi
      "${as_pg[@]}" "$bindir/pg_ctl" -D "$datadir" -l "$logfile" -o "$opts" -w -t 30 start >/dev/null
    fi
    if ! "${as_pg[@]}" "$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -Atq -d postgres \
        -c "select 1 from pg_database where datname = '$dbname'" | grep -q 1; then
      "${as_pg[@]}" "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres "$dbname"
    fi
    echo "PostgreSQL ($mode) on 127.0.0.1:$port, data in $datadir" >&2
    ;;
  stop)
    if [ -d "$datadir" ] && running; then
      "${as_pg[@]}" "$bindir/pg_ctl" -D "$datadir" -m fast -w stop >/dev/null
      echo "PostgreSQL ($mode) stopped" >&2
    fi
    ;;
  status)
    if [ -d "$datadir" ] && running; then echo "running on 127.0.0.1:$port"; else echo "stopped"; exit 3; fi
    ;;
  *) echo "pg.sh: unknown command $cmd" >&2; exit 2 ;;
esac
