"""A gunicorn on a loopback port against the bench database, and a small threaded load generator."""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

# The tests' choice of port: free now, and none of the project's fixed ones.
from tests.ports import free_port

ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def gunicorn(*, workers: int | None = None):
    """Start gunicorn (DEBUG off, access log off) and yield its base address; stop it after.

    `workers`: by default as docs/deploy/gunicorn.conf.py advises, 2 per core.
    """
    workers = workers or 2 * (os.cpu_count() or 1)
    port = free_port()
    env = {
        **os.environ,
        "DEBUG": "false",
        "DB_CONN_MAX_AGE": "60",
        "AXES_ENABLED": "false",
        "PYTHONUNBUFFERED": "1",
    }
    gunicorn_bin = str(Path(sys.executable).with_name("gunicorn"))
    process = subprocess.Popen(  # noqa: S603 - fixed arguments
        [gunicorn_bin, "handbook.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
         "--log-level", "warning", "--no-control-socket"],
        cwd=ROOT,
        env=env,
        # The access lines are written as in production, but not onto the figures.
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, _, _ = request(port, "GET", "/helse/")
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.2)
        del status
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def request(port: int, method: str, path: str, *, body: str | None = None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        return response.status, dict(response.getheaders()), data
    finally:
        conn.close()


@dataclass
class Load:
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    sizes: set = field(default_factory=set)
    # interleaved(): req/s of each round, in order.
    rounds: list = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def add(self, load: Load) -> None:
        """Count one more round in this total."""
        self.requests += load.requests
        self.errors += load.errors
        self.seconds += load.seconds
        self.rounds.append(load.per_second)


def hammer(
    port: int,
    path: str,
    *,
    threads: int = 8,
    seconds: float = 8.0,
    max_requests: int = 20000,
    headers: dict | None = None,
) -> Load:
    """GET `path` from `threads` threads for `seconds` (or `max_requests`); count the 200s."""
    load = Load()
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def worker():
        while time.monotonic() < stop_at:
            with lock:
                if load.requests + load.errors >= max_requests:
                    return
            try:
                status, _, data = request(port, "GET", path, headers=headers)
            except OSError:
                status, data = 0, b""
            with lock:
                if status == 200:
                    load.requests += 1
                    load.sizes.add(len(data))
                else:
                    load.errors += 1

    started = time.monotonic()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    load.seconds = time.monotonic() - started
    return load


def wrk(port: int, path: str, *, seconds: float = 2.0, headers: dict | None = None) -> Load:
    """GET `path` with wrk (Debian's, in C) over 16 keep-alive connections, as browsers keep
    theirs, for `seconds` (whole seconds: wrk takes no fractions); count the 2xx/3xx answers.

    hammer() is the ceiling once a server answers faster than Python can ask (about 2 000
    requests a second here): nginx answering from its cache is then measured by the client's
    cost, not its own. wrk costs a few microseconds a request, so the server is what is measured.
    """
    binary = shutil.which("wrk")
    if binary is None:
        raise RuntimeError(
            "wrk is missing: `make bench` installs it (scripts/ensure-cluster-tools.sh)"
        )
    command = [
        binary,
        "--threads",
        "2",
        "--connections",
        "16",
        "--duration",
        f"{max(1, round(seconds))}s",
    ]
    for name, value in (headers or {}).items():
        command += ["--header", f"{name}: {value}"]
    out = subprocess.run(  # noqa: S603 - fixed arguments
        [*command, f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True
    ).stdout
    match = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)\b", out)
    took = float(match.group(2)) * {"ms": 0.001, "s": 1.0, "m": 60.0}[match.group(3)]
    failed = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    if errors := re.search(r"Socket errors: (.*)", out):
        failed += sum(int(n) for n in re.findall(r"\d+", errors.group(1)))
    return Load(requests=int(match.group(1)) - failed, errors=failed, seconds=took)


def interleaved(
    port: int, runs: dict[str, tuple[str, dict | None]], *, rounds: int = 4, seconds: float = 2.0
) -> dict[str, Load]:
    """Hammer each of `runs` (name -> path, headers) in turn, `rounds` times, and add up: on a
    machine whose load drifts, figures taken side by side compare better than one after another."""
    totals = {name: Load() for name in runs}
    for _ in range(rounds):
        for name, (path, headers) in runs.items():
            load = hammer(port, path, threads=8, seconds=seconds, headers=headers)
            totals[name].add(load)
    return totals
