"""`python -m bench [--rebuild] [--orgs N]`: build the corpus if needed, run every benchmark, print a table.

To add a benchmark, write a module with `run() -> list[Result]` and add it to MODULES.
"""

from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import sys
import time

MODULES = [
    "bench.search",
    "bench.relevance",
    "bench.pages",
    "bench.acknowledgements",
    "bench.mail",
    "bench.notices",
    "bench.diff",
    "bench.cluster",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--rebuild", action="store_true", help="build the corpus again")
    parser.add_argument("--orgs", type=int, default=360, help="organisations in the corpus")
    parser.add_argument("--only", action="append", help="run only this module (e.g. bench.search)")
    args = parser.parse_args(argv)

    from bench import Result, ensure_database, print_table

    base_url = os.environ.get("DATABASE_URL")
    if not base_url:
        print("DATABASE_URL is not set; run `make bench`.", file=sys.stderr)
        return 2
    os.environ["DATABASE_URL"] = ensure_database(base_url)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "handbook.settings")
    os.environ.setdefault("DB_CONN_MAX_AGE", "0")

    import django

    django.setup()
    from bench import corpus

    corpus.ensure(organisations=args.orgs, rebuild=args.rebuild)

    results = []
    for name in args.only or MODULES:
        started = time.perf_counter()
        print(f"== {name}", flush=True)
        results.extend(importlib.import_module(name).run())
        print(f"   ({time.perf_counter() - started:.0f} s)", flush=True)
    # Other work on the machine skews throughput figures: say how busy it was.
    # Django set TZ to the kommuner's time zone: say the time in UTC, as the figures' notes do.
    uptime = subprocess.run(
        ["uptime"], capture_output=True, text=True, env={**os.environ, "TZ": "UTC"}
    ).stdout.strip()
    print(f"uptime (UTC): {uptime}")
    load = os.getloadavg()[0]
    results.append(
        Result("Maskinlast (snitt siste minutt)", f"{load:.1f} på {os.cpu_count()} kjerner")
    )
    print()
    print_table(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
