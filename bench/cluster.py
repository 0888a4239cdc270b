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
from bench.server import hammer, interleaved

SECONDS = 6.0


def _static_copy(path: str) -> str:
    """The page as a static file of the same size (whitenoise indexes it when a server starts)."""
    page = Client().get(path).content
    folder = Path(settings.STATIC_ROOT) / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "page.html").write_bytes(page)
    return f"{settings.STATIC_URL}bench/page.html"


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
        ratio = figures[2, "cached"] / figures[2, "static"]
        results.append(
            Result("Side fra hurtigbuffer mot statisk fil (nginx)", f"{ratio:.2f}×", "≥ 1.0×", ratio >= 1)
        )  # fmt: skip
        scale = figures[2, "uncached"] / figures[1, "uncached"]
        results.append(Result("Uten hurtigbuffer: 2 mot 1 appserver", f"{scale:.2f}×"))
    finally:
        cluster.stop_all()
    return results
