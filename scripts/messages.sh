#!/usr/bin/env bash
# Translation catalogues (locale/<language>/LC_MESSAGES/django.po).
#
#   scripts/messages.sh compile   compile every catalogue to .mo (make run and make test do this)
#   scripts/messages.sh check     extract every message again (makemessages) and fail when a catalogue
#                                 has an untranslated or fuzzy entry; leaves the files as they were
#                                 when nothing but the extraction date changed
#
# Bokmål is the source language (the msgids), so every other language in settings.LANGUAGES must have
# a complete catalogue. gettext's tools are installed with apt when missing, as pg.sh does for PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-.venv/bin/python}

if ! command -v msgfmt >/dev/null; then
  echo "messages.sh: installing gettext with apt ..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq gettext >/dev/null
fi

ignore=(--ignore=.venv --ignore=node_modules --ignore=staticfiles --ignore=.pg --ignore=bench)
case "${1:-}" in
  compile)
    "$py" manage.py compilemessages -v 0 "${ignore[@]}"
    ;;
  check)
    before=$(mktemp -d)
    cp -r locale "$before/"
    "$py" manage.py makemessages --all --no-location --no-obsolete -v 0 "${ignore[@]}"
    "$py" manage.py makemessages --all --no-location --no-obsolete -v 0 -d djangojs "${ignore[@]}" \
      2>/dev/null || true
    "$py" - <<'PY'
import pathlib, sys
import polib
problems = []
for path in sorted(pathlib.Path("locale").glob("*/LC_MESSAGES/*.po")):
    po = polib.pofile(str(path))
    for entry in po.untranslated_entries():
        problems.append(f"{path}: untranslated: {entry.msgid[:90]!r}")
    for entry in po.fuzzy_entries():
        problems.append(f"{path}: fuzzy: {entry.msgid[:90]!r}")
if problems:
    print("\n".join(problems), file=sys.stderr)
    print(f"messages.sh: {len(problems)} message(s) need a translation", file=sys.stderr)
    sys.exit(1)
print("messages.sh: every catalogue is complete")
PY
    # Nothing but the extraction date changed: keep the files as they were.
    for po in locale/*/LC_MESSAGES/*.po; do
      old="$before/$po"
      if [ -f "$old" ] && diff -q <(grep -v POT-Creation-Date "$po") <(grep -v POT-Creation-Date "$old") >/dev/null; then
        cp "$old" "$po"
      fi
    done
    rm -rf "$before"
    ;;
  *) echo "usage: scripts/messages.sh compile|check" >&2; exit 2 ;;
esac
