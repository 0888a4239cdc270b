#!/usr/bin/env bash
# Local OpenID Connect providers for development (never in production): one oidc-provider-mock
# process per demo kommune in fixtures/demo_signin.json, on 127.0.0.1, port $HANDBOOK_OIDC_PORT
# (default 9401) + the kommune's port_offset. Pid files and logs in .oidc/.
#
#   scripts/oidc.sh start    start the providers that are not running
#   scripts/oidc.sh stop     stop them
#   scripts/oidc.sh status
set -euo pipefail

cmd=${1:?usage: oidc.sh start|stop|status}
project=$(cd "$(dirname "$0")/.." && pwd)
base_port=${HANDBOOK_OIDC_PORT:-9401}
state="$project/.oidc"
python="$project/.venv/bin/python"
mock="$project/.venv/bin/oidc-provider-mock"
fixture="$project/fixtures/demo_signin.json"

kommuner() { "$python" -c 'import json,sys; print(" ".join(k for k in json.load(open(sys.argv[1])) if not k.startswith("_")))' "$fixture"; }
port_of() { "$python" -c 'import json,sys; print(int(sys.argv[2]) + json.load(open(sys.argv[1]))[sys.argv[3]]["port_offset"])' "$fixture" "$base_port" "$1"; }
running() { [ -s "$state/$1.pid" ] && kill -0 "$(cat "$state/$1.pid")" 2>/dev/null; }

case "$cmd" in
  start)
    mkdir -p "$state"
    for slug in $(kommuner); do
      port=$(port_of "$slug")
      if running "$slug"; then continue; fi
      # One --user-claims argument per demo person (the provider's page lists them as buttons).
      mapfile -t claims < <("$python" -c 'import json,sys; [print(json.dumps(u)) for u in json.load(open(sys.argv[1]))[sys.argv[2]]["users"]]' "$fixture" "$slug")
      args=()
      for c in "${claims[@]}"; do args+=(--user-claims "$c"); done
      PYTHONWARNINGS=ignore nohup "$mock" --host 127.0.0.1 --port "$port" --require-nonce true "${args[@]}" \
        >"$state/$slug.log" 2>&1 &
      echo $! >"$state/$slug.pid"
    done
    for slug in $(kommuner); do
      port=$(port_of "$slug")
      for _ in $(seq 1 100); do
        if "$python" -c 'import sys,urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' \
            "http://127.0.0.1:$port/.well-known/openid-configuration" 2>/dev/null; then break; fi
        if ! running "$slug"; then echo "oidc.sh: the $slug provider did not start; see $state/$slug.log" >&2; exit 1; fi
        sleep 0.1
      done
      echo "OpenID Connect provider ($slug) on http://127.0.0.1:$port" >&2
    done
    ;;
  stop)
    # By pid file, so that stopping needs neither the virtualenv nor the fixture.
    for pidfile in "$state"/*.pid; do
      [ -e "$pidfile" ] || continue
      slug=$(basename "$pidfile" .pid)
      if running "$slug"; then kill "$(cat "$pidfile")"; echo "OpenID Connect provider ($slug) stopped" >&2; fi
      rm -f "$pidfile"
    done
    ;;
  status)
    for slug in $(kommuner); do
      if running "$slug"; then echo "$slug: running on 127.0.0.1:$(port_of "$slug")"; else echo "$slug: stopped"; fi
    done
    ;;
  *) echo "oidc.sh: unknown command $cmd" >&2; exit 2 ;;
esac
