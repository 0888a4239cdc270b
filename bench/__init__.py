"""Benchmarks that print figures (`make bench`); not part of the test suite.

Every module listed in bench/__main__.py exposes `run() -> list[Result]`. They all work on one
national-scale corpus in a separate database, `handbook_bench`, on the cluster DATABASE_URL points
at (the test cluster under `make bench`); the test database itself is never touched.
"""

from __future__ import annotations

import os
import statistics
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

BENCH_DB_NAME = os.environ.get("BENCH_DB_NAME", "handbook_bench")


@dataclass(frozen=True)
class Result:
    name: str
    value: str
    target: str = ""
    ok: bool | None = None

    @property
    def verdict(self) -> str:
        return {True: "ok", False: "MISSED", None: ""}[self.ok]


def bench_database_url(base_url: str, name: str = BENCH_DB_NAME) -> str:
    """The same cluster as `base_url`, database `name` (handbook_bench)."""
    parts = urlsplit(base_url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def ensure_database(base_url: str, name: str = BENCH_DB_NAME) -> str:
    """Create database `name` (handbook_bench) on the cluster if it is missing; return its URL."""
    import psycopg

    parts = urlsplit(base_url)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
        # A cluster whose postgresql.conf names the config wrongly breaks every parallel worker.
        conn.execute(
            f"ALTER DATABASE \"{name}\" SET default_text_search_config = 'pg_catalog.norwegian'"
        )
    return bench_database_url(base_url, name)


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def median(values: list[float]) -> float:
    return statistics.median(values)


def print_table(results: list[Result]) -> None:
    headers = ("Måling", "Resultat", "Mål", "")
    rows = [(r.name, r.value, r.target, r.verdict) for r in results]
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows, strict=False)]
    line = "  ".join("-" * w for w in widths)
    print(line)
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=False)))
    print(line)
    for row in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=False)))
    print(line)


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))
