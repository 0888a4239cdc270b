#!/usr/bin/env bash
# Browser tests drive Debian's Chromium (never `playwright install`, which downloads a browser).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-chromium: /usr/bin/chromium is missing; install Debian's 'chromium' package." >&2
  exit 1
fi
echo "ensure-chromium: installing Debian's chromium with apt ..." >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
