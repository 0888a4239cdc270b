"""Policy page throughput through nginx (docs/deploy/nginx.conf) with one and with two app servers
(docs/deploy/gunicorn.conf.py), cached and uncached, against a static file of the same size.

Started the way tests/test_cluster.py starts its cluster (same helpers, ports chosen at run time),
on the bench database, with a Redis of its own. On one machine the app servers share its cores,
so the second server shows what the set-up costs rather than what a second machine would give.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from django.conf import settings
from django.test import Client

from bench import Result
from bench.pages import THREADS, _page_path
from bench.server import Load, hammer, interleaved, wrk

SECONDS = 6.0


def _static_copy(path: str) -> str:
    """The page as a static file of the same size (whitenoise indexes it when a server starts)."""
    page = Client().get(path).content
    folder = Path(settings.STATIC_ROOT) / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "page.html").write_bytes(page)
    return f"{settings.STATIC_URL}bench/page.html"


def _cpu_seconds(group: int) -> float:
    """CPU time used so far by the processes of one process group (a server and its workers),
    with the workers that have ended (gunicorn replaces a worker every 5 000 requests): their
    time is in their parent's cutime and cstime."""
    ticks = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group:  # pgrp
            ticks += sum(int(n) for n in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def _server_cost(cluster, nginx_port: int, path: str, static_path: str) -> list[Result]:
    """The page from nginx's cache against the same static file, loaded with wrk so that the
    server rather than the client is measured: from nginx's cache too (the deployment sends
    static files through it), and from an app server alone, the issue's "static file of the
    same size through the same gunicorn". Beside the throughput, the CPU time the serving
    processes spent per answer: the cost itself, which other work on the machine disturbs less."""
    nginx = cluster.processes["nginx-2"].pid
    app = cluster.processes["a"].pid
    app_port = int(cluster.servers["a"].rsplit(":", 1)[1])
    runs = {
        "cached": (nginx_port, path, nginx),
        "static, nginx": (nginx_port, static_path, nginx),
        "static, gunicorn": (app_port, static_path, app),
    }
    loads = {kind: Load() for kind in runs}
    cpu = dict.fromkeys(runs, 0.0)
    for _ in range(5):
        for kind, (port, url, group) in runs.items():
            before = _cpu_seconds(group)
            load = wrk(port, url, seconds=2)
            cpu[kind] += _cpu_seconds(group) - before
            loads[kind].add(load)
    for kind, load in loads.items():
        print(f"   wrk, {kind}: {load.requests} ok, {load.errors} errors, {cpu[kind]:.2f} s CPU")
    cached, static, alone = (loads[kind] for kind in runs)
    per_answer = {kind: 1e6 * cpu[kind] / max(loads[kind].requests, 1) for kind in runs}
    rounds = [mine / theirs for mine, theirs in zip(cached.rounds, static.rounds, strict=True)]
    same_work = cached.per_second / static.per_second
    against_app = cached.per_second / alone.per_second
    return [
        Result("wrk: side fra nginx' hurtigbuffer", f"{cached.per_second:.0f} req/s, nginx {per_answer['cached']:.0f} µs CPU/svar"),
        Result("wrk: statisk fil fra nginx' hurtigbuffer", f"{static.per_second:.0f} req/s, nginx {per_answer['static, nginx']:.0f} µs CPU/svar"),
        Result("wrk: statisk fil fra gunicorn alene", f"{alone.per_second:.0f} req/s, gunicorn {per_answer['static, gunicorn']:.0f} µs CPU/svar"),
        Result("Side fra hurtigbuffer mot statisk fil gjennom gunicorn", f"{against_app:.1f}×", "≥ 1.0×", against_app >= 1),
        Result(
            "Side fra hurtigbuffer mot statisk fil fra hurtigbuffer",
            f"{same_work:.2f}× (runder {min(rounds):.2f}–{max(rounds):.2f})",
            "samme arbeid i nginx",
        ),
    ]  # fmt: skip


def run() -> list[Result]:
    from tests.deploy import nginx_config
    from tests.ports import free_port
    from tests.test_cluster import Cluster, _answers, _tool
    from tests.test_failures import wait_until

    path = _page_path()
    static_path = _static_copy(path)
    tmp = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    tmp.chmod(0o755)
    redis_port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "handbook.settings",
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "DEBUG": "false",
        "AXES_ENABLED": "false",
        "DB_CONN_MAX_AGE": "60",
    }
    cluster = Cluster(database_url=os.environ["DATABASE_URL"], env=env, tmp=tmp, sink=None)
    results = []
    try:
        redis = [_tool("redis-server"), "--bind", "127.0.0.1", "--port", str(redis_port)]
        cluster.start("redis", [*redis, "--save", "", "--appendonly", "no"])
        servers = [cluster.start_app_server("a"), cluster.start_app_server("b")]
        ports = {}
        for count in (1, 2):
            folder = tmp / f"nginx-{count}"
            folder.mkdir()
            folder.chmod(0o755)
            ports[count] = free_port()
            config = nginx_config(folder, servers[:count], ports[count], tls=False)
            cluster.start(
                f"nginx-{count}", [_tool("nginx"), "-c", str(config), "-g", "daemon off;"]
            )
            wait_until(lambda p=ports[count]: _answers(f"http://127.0.0.1:{p}/helse/"), "nginx")
        figures = {}
        for count, port in ports.items():
            runs = {
                "cached": (path, None),
                # A query string passes both nginx's and the app's page cache: every view is made
                # from the shared parts kept per process (policies.pageparts).
                "uncached": (f"{path}?bench=1", None),
                "static": (static_path, None),
            }
            for url, _ in runs.values():
                hammer(port, url, threads=THREADS, seconds=1.0)
            for kind, load in interleaved(port, runs, seconds=SECONDS / 4).items():
                print(f"   {count} server(s), {kind}: {load.requests} ok, {load.errors} errors")
                figures[count, kind] = load.per_second
        servers_label = {1: "1 appserver", 2: "2 appservere"}
        for count in (1, 2):
            label = servers_label[count]
            results += [
                Result(f"nginx + {label}: side fra hurtigbuffer", f"{figures[count, 'cached']:.0f} req/s"),
                Result(f"nginx + {label}: side uten hurtigbuffer", f"{figures[count, 'uncached']:.0f} req/s"),
                Result(f"nginx + {label}: statisk fil, samme størrelse", f"{figures[count, 'static']:.0f} req/s"),
            ]  # fmt: skip
        # With the threaded Python client both answers from nginx's cache run at the client's
        # ceiling, so this ratio is the client's (it parses the page's longer headers), not nginx's.
        ratio = figures[2, "cached"] / figures[2, "static"]
        results.append(
            Result("Side fra hurtigbuffer mot statisk fil (nginx, Python-klient)", f"{ratio:.2f}×")
        )
        scale = figures[2, "uncached"] / figures[1, "uncached"]
        results.append(Result("Uten hurtigbuffer: 2 mot 1 appserver", f"{scale:.2f}×"))
        results += _server_cost(cluster, ports[2], path, static_path)
    finally:
        cluster.stop_all()
    return results
