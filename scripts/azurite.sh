#!/usr/bin/env bash
# Microsoft's Azure Blob Storage emulator (azurite, from npm) for `make run`: uploads then go to
# object storage as in production. Data in .azurite/ (ignored by git).
#
#   scripts/azurite.sh start   start it on 127.0.0.1:$HANDBOOK_AZURITE_PORT (default 25332)
#   scripts/azurite.sh stop
#   scripts/azurite.sh url     print the connection string for AZURE_STORAGE_CONNECTION_STRING
set -euo pipefail
cmd=${1:?usage: azurite.sh start|stop|url}
port=${HANDBOOK_AZURITE_PORT:-25332}
project=$(cd "$(dirname "$0")/.." && pwd)
base="$project/.azurite"
pidfile="$base/azurite.pid"
# azurite's fixed development account (published by Microsoft; not a secret).
key="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
running() { [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }
case "$cmd" in
  url)
    echo "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${key};BlobEndpoint=http://127.0.0.1:${port}/devstoreaccount1;"
    ;;
  start)
    mkdir -p "$base"
    if ! running; then
      # --disableTelemetry: otherwise it tries to reach an outside host.
      nohup "$project/node_modules/.bin/azurite-blob" --blobHost 127.0.0.1 --blobPort "$port" \
        --location "$base" --silent --disableTelemetry --skipApiVersionCheck \
        >"$base/azurite.log" 2>&1 &
      echo $! >"$pidfile"
      for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
        sleep 0.1
      done
    fi
    echo "azurite on 127.0.0.1:$port" >&2
    ;;
  stop)
    if running; then kill "$(cat "$pidfile")"; fi
    ;;
  *) echo "azurite.sh: unknown command $cmd" >&2; exit 2 ;;
esac
