"""The files under docs/deploy/ that docs/deployment.md tells people to copy: quick checks that they
say what the guide says. The whole installation built from them runs in tests/test_deployment.py."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from .deploy import DEPLOY, ROOT, SYSTEMD, nginx_config, read_environment_file
from .ports import free_port


def test_the_gunicorn_access_log_holds_no_client_address_and_no_query_string(tmp_path):
    port = free_port()
    log = tmp_path / "gunicorn.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "handbook.settings",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
    }
    with log.open("w") as out:
        server = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "--config",
                str(DEPLOY / "gunicorn.conf.py"),
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/sok/?q=Kari+Nordmann+sykemelding",
            headers={
                "X-Forwarded-For": "203.0.113.7",
                "Referer": "http://127.0.0.1/sok/?q=Ola+Hansen",
                "User-Agent": "Testnettleser/1.0",
                "X-Request-ID": "abc123abc123abc123abc123abc123ab",
            },
        )
        for _ in range(300):
            try:
                urllib.request.urlopen(request, timeout=10).close()  # noqa: S310
                break
            except urllib.error.HTTPError:
                break  # any answer is logged
            except OSError:
                time.sleep(0.1)
        access = ""
        for _ in range(100):
            access = "\n".join(
                line for line in log.read_text().splitlines() if '"GET /sok/' in line
            )
            if access:
                break
            time.sleep(0.1)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert re.search(r'"GET /sok/" \d{3} \d+ \d+ms [0-9a-f]{32}$', access), log.read_text()
    for personal in ("Kari", "Nordmann", "q=", "Ola", "203.0.113.7", "127.0.0.1", "Testnettleser"):
        assert personal not in access, access


def test_the_settings_file_reads_the_same_in_the_shell_as_in_systemd():
    """Step 3 loads handbook.env with `set -a; . handbook.env`; the units with EnvironmentFile=."""
    path = SYSTEMD / "handbook.env.example"
    shell = subprocess.run(
        ["/bin/sh", "-c", f'set -a; . "{path}"; set +a; env -0'],
        env={"PATH": os.environ["PATH"]},
        capture_output=True,
        check=True,
    )
    seen = dict(entry.split("=", 1) for entry in shell.stdout.decode().split("\0") if "=" in entry)
    for key, value in read_environment_file(path).items():
        assert seen.get(key) == value, key


def test_the_settings_file_as_shipped_does_not_start_production(tmp_path):
    """Its secrets are the operator's to make: a placeholder that passes the length check would
    be one known SECRET_KEY (and metrics token) in every installation that forgot to change it."""
    settings = read_environment_file(SYSTEMD / "handbook.env.example")
    assert settings["ENVIRONMENT"] == "production"
    assert settings["METRICS_TOKEN"] == "", "an empty token keeps /helse/metrikker/ closed"
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "handbook.settings", **settings},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0, result.stdout
    assert "Set SECRET_KEY" in result.stderr, result.stderr


def test_every_variable_the_installation_reads_is_in_the_readme_table():
    """handbook.env.example promises "Every variable is described in README.md"."""
    readme = (ROOT / "README.md").read_text()
    table = readme.split("## Environment variables", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", table))
    read = set(
        re.findall(
            r'env_(?:str|bool|int|list)\(\s*"([A-Z0-9_]+)"',
            (ROOT / "handbook" / "settings.py").read_text(),
        )
    )
    read |= set(
        re.findall(r'environ\.get\("([A-Z0-9_]+)"', (DEPLOY / "gunicorn.conf.py").read_text())
    )
    for unit in SYSTEMD.glob("*.service"):
        read |= set(re.findall(r"\$\{?([A-Z][A-Z0-9_]+)", unit.read_text())) - {"MAINPID"}
    read |= set(read_environment_file(SYSTEMD / "handbook.env.example"))
    assert read, "no variables found: the patterns no longer match the files"
    assert not read - documented, f"read but not in README.md's table: {sorted(read - documented)}"


@contextmanager
def _nginx(tmp_path: Path, upstreams: list[str], *, monitoring: str = "127.0.0.1"):
    """docs/deploy/nginx.conf over TLS in front of `upstreams` (tests.deploy.nginx_config), once it
    listens; yields `ask(path, method="GET", **requests_arguments)` through it. Nothing is asked
    before the test asks. `monitoring` is the network allowed /helse/metrikker/."""
    nginx = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    if not nginx:
        pytest.fail("nginx is missing: `make test` installs it (scripts/ensure-cluster-tools.sh)")
    port = free_port()
    config = nginx_config(tmp_path, upstreams, port, tls=True, monitoring=monitoring)
    process = subprocess.Popen(
        [nginx, "-c", str(config), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("nginx did not start")
        yield lambda path, method="GET", **arguments: requests.request(
            method,
            f"https://127.0.0.1:{port}{path}",
            verify=str(tmp_path / "tls" / "fullchain.pem"),
            timeout=10,
            **arguments,
        )
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def test_nginx_answers_in_norwegian_and_logs_no_search_words_when_no_app_server_answers(tmp_path):
    """docs/deploy/nginx.conf with every app server down (a restart of all of them, a maintenance
    window): the reader gets a Norwegian page, not nginx's "502 Bad Gateway", and neither of
    nginx's logs keeps the client address or the search words."""
    nobody = free_port()  # nothing listens there
    with _nginx(tmp_path, [f"http://127.0.0.1:{nobody}"]) as get:
        answer = get("/sok/?q=Kari+Nordmann+sykemelding")
    assert answer.status_code == 502
    assert "Håndboka er midlertidig utilgjengelig" in answer.text, answer.text
    assert "Bad Gateway" not in answer.text
    assert answer.headers["Cache-Control"] == "no-store"
    logs = "".join(
        path.read_text(errors="replace")
        for name in ("nginx-access.log", "handboka-error.log", "nginx-error.log")
        if (path := tmp_path / name).exists()
    )
    assert '"GET /sok/" 502' in logs, logs
    for personal in ("Kari", "Nordmann", "q=", "client:"):
        assert personal not in logs, logs


def test_nginx_passes_the_apps_own_502_on_without_retrying_or_benching_the_server(tmp_path):
    """The app answers 502 when a kommune's identity provider fails (signin/views.py). nginx
    must hand that page to the reader as it is: not ask every other app server the same (each
    waiting for the provider), and not count it as the app server failing (max_fails=1 would
    take it out of service for everyone for fail_timeout)."""
    both_fail = {"first": {"/": 502}, "second": {"/": 502}}
    with _fake_app_servers(both_fail) as (upstreams, seen), _nginx(tmp_path, upstreams) as get:
        answers = [get("/logg-inn/bodo/") for _ in range(4)]
    assert [answer.status_code for answer in answers] == [502] * 4
    # The app's own page, not nginx's (which it gives once every app server is taken out), and
    # each request went to one app server only. (nginx's two worker processes keep their own
    # round robin, so how the four are shared between the servers varies.)
    assert all("svarte 502" in answer.text for answer in answers), answers[0].text
    assert sum(len(paths) for paths in seen.values()) == 4, seen


def test_the_app_servers_and_the_worker_share_one_cache_namespace():
    """The app servers reach PostgreSQL through PgBouncer, the worker directly (its unit runs
    DATABASE_URL="$DIRECT_DATABASE_URL"). The cache key prefix must still be the same, or what the
    worker's jobs invalidate (a scheduled version activated at night: forget_policy_page,
    forget_plans) never reaches the pages the app servers cache."""
    unit = (SYSTEMD / "handbook-worker.service").read_text()
    assert 'DATABASE_URL="$DIRECT_DATABASE_URL"' in unit
    settings = read_environment_file(SYSTEMD / "handbook.env.example")
    shared = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "handbook.settings",
        "REDIS_URL": settings["REDIS_URL"],
        "DIRECT_DATABASE_URL": settings["DIRECT_DATABASE_URL"],
    }

    def prefix(database_url: str) -> str:
        return subprocess.run(
            [
                sys.executable,
                "-c",
                "import django; django.setup(); from django.conf import settings; "
                "print(settings.CACHES['default']['KEY_PREFIX'])",
            ],
            cwd=ROOT,
            env={**shared, "DATABASE_URL": database_url},
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout.strip()

    app_server = prefix(settings["DATABASE_URL"])
    worker = prefix(settings["DIRECT_DATABASE_URL"])
    assert app_server == worker, (app_server, worker)


@contextmanager
def _fake_app_servers(answers: dict[str, dict[str, int]]):
    """Tiny app servers, one per name in `answers`, each answering a GET of a path that starts
    with one of its prefixes with that status (404 for any other path) and counting the paths it
    was asked; yields their base URLs, in order, and the paths each was asked."""
    import http.server
    import threading

    seen: dict[str, list[str]] = {name: [] for name in answers}

    def handler(name: str):
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                seen[name].append(self.path)
                status = next(
                    (s for prefix, s in answers[name].items() if self.path.startswith(prefix)),
                    404,
                )
                body = f"{name} svarte {status}".encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        return Handler

    servers = []
    try:
        for name in answers:
            server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler(name))
            threading.Thread(target=server.serve_forever, daemon=True).start()
            servers.append(server)
        yield [f"http://127.0.0.1:{server.server_address[1]}" for server in servers], seen
    finally:
        for server in servers:
            server.shutdown()


def test_nginx_answers_an_image_over_its_body_limit_in_norwegian(tmp_path):
    """An editor's image over client_max_body_size is refused by nginx before the app sees it:
    the answer must be Norwegian and say the limit, not nginx's "413 Request Entity Too Large"."""
    nobody = free_port()  # the app is never asked
    with _nginx(tmp_path, [f"http://127.0.0.1:{nobody}"]) as ask:
        answer = ask(
            "/redaksjon/markdownx/upload/",
            "POST",
            files={"image": ("bilde.jpg", b"\xff" * (5 * 1024 * 1024), "image/jpeg")},
        )
    assert answer.status_code == 413
    assert "Filen er for stor" in answer.text, answer.text
    assert "3 MB" in answer.text
    assert "Request Entity Too Large" not in answer.text
    assert answer.headers["Cache-Control"] == "no-store"


def test_nginx_answers_outsiders_asking_for_the_metrics_with_the_apps_own_404(tmp_path):
    """The app hides /helse/metrikker/ with a 404; nginx's "403 Forbidden" for a client outside
    the monitoring network would tell that something is there. The test's client, 127.0.0.1, is
    outside the example network the file ships with; inside it, the app is asked as before."""
    answers = {"app": {"/helse/metrikker/": 200}}
    with _fake_app_servers(answers) as (upstreams, seen):
        with _nginx(tmp_path / "outside", upstreams, monitoring="10.0.50.0/24") as ask:
            outsider = ask("/helse/metrikker/")
        with _nginx(tmp_path / "inside", upstreams) as ask:
            monitoring = ask("/helse/metrikker/")
    assert outsider.status_code == 404
    assert outsider.text == "app svarte 404", outsider.text  # the app's own page for a 404
    assert seen["app"][0] != "/helse/metrikker/", seen  # not asked for the metrics themselves
    assert monitoring.status_code == 200
    assert monitoring.text == "app svarte 200"


def test_nginx_asks_the_next_app_server_for_a_static_file_the_first_does_not_have(tmp_path):
    """During a rolling upgrade a page from an upgraded app server names new hashed static files,
    which a server not yet upgraded answers with 404: nginx must fetch them from another server.
    Any other 404 is the answer (a page that does not exist is missing on every server)."""
    answers = {"old": {}, "new": {"/static/": 200}}
    with _fake_app_servers(answers) as (upstreams, seen), _nginx(tmp_path, upstreams) as ask:
        static = [ask("/static/css/handbook.3f2a1b.css") for _ in range(6)]
        pages = [ask("/finnes-ikke/") for _ in range(6)]
    assert [answer.status_code for answer in static] == [200] * 6
    assert all(answer.text == "new svarte 200" for answer in static)
    # The old server is first in the upstream, so each nginx worker's first request went there.
    assert "/static/css/handbook.3f2a1b.css" in seen["old"], seen
    assert 404 in [answer.status_code for answer in pages]
    asked = [path for paths in seen.values() for path in paths if path == "/finnes-ikke/"]
    assert len(asked) == 6, seen
