"""Håndboka as it runs in production, on loopback: PostgreSQL, Redis, two gunicorn app servers
(docs/deploy/gunicorn.conf.py), one job worker and nginx in front (docs/deploy/nginx.conf, plain HTTP
here: tests/test_deployment.py runs the same files with TLS and production settings), with a real
SMTP server (aiosmtpd). Each test proves one promise of running on several machines.

The database is a throwaway one (`handbook_cluster`) on the test PostgreSQL cluster. How long the
SMTP server stays down is CLUSTER_SMTP_OUTAGE_SECONDS (default 5; set 60 for the full minute).
"""

from __future__ import annotations

import collections
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import psycopg
import pytest

from .azurite import AZURITE, Azurite
from .deploy import nginx_config
from .ports import free_port
from .smtp_sink import SmtpSink
from .test_failures import Browser, confirmation_succeeded, manage, wait_until

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "docs" / "deploy"
OUTAGE_SECONDS = float(os.environ.get("CLUSTER_SMTP_OUTAGE_SECONDS", "5"))
MASS_PEOPLE = 2000
BURST_PEOPLE = 60
MANAGED_UNIT = "Byrådsavdeling for helse og omsorg"

pytestmark = pytest.mark.cluster


def _tool(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")
    if not found:
        pytest.fail(f"{name} is missing: `make test` installs it (scripts/ensure-cluster-tools.sh)")
    return found


@dataclass
class Cluster:
    database_url: str
    env: dict
    tmp: Path
    sink: SmtpSink
    servers: dict[str, str] = field(default_factory=dict)  # name -> base URL
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    nginx_url: str = ""

    # --- processes ---------------------------------------------------------------------------

    def start(self, name: str, command: list[str], **extra_env) -> subprocess.Popen:
        log = (self.tmp / f"{name}.log").open("a")
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**self.env, **extra_env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: killed as a whole
        )
        self.processes[name] = process
        return process

    def start_app_server(self, name: str) -> str:
        port = free_port()
        self.start(
            name,
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "--config",
                str(DEPLOY / "gunicorn.conf.py"),
            ],
            GUNICORN_BIND=f"127.0.0.1:{port}",
            WEB_CONCURRENCY="2",
        )
        url = f"http://127.0.0.1:{port}"
        self.servers[name] = url
        wait_until(lambda: _answers(url + "/helse/"), f"app server {name}")
        return url

    def start_worker(self) -> None:
        self.start("worker", [sys.executable, "manage.py", "procrastinate", "worker"])

    def kill(self, name: str, sig=signal.SIGKILL) -> None:
        process = self.processes.pop(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        process.wait(timeout=30)

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.kill(name, signal.SIGTERM)

    # --- the database ------------------------------------------------------------------------

    def query(self, sql: str, *params):
        with psycopg.connect(self.database_url) as connection:
            cursor = connection.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

    def shell(self, code: str) -> list[str]:
        result = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", code],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.splitlines()


def _answers(url: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
            return response.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    base = os.environ.get("DATABASE_URL")
    if not base:
        pytest.skip("DATABASE_URL (the test PostgreSQL) is not set")
    database_url = base.rsplit("/", 1)[0] + "/handbook_cluster"
    with psycopg.connect(base.rsplit("/", 1)[0] + "/postgres", autocommit=True) as connection:
        connection.execute("DROP DATABASE IF EXISTS handbook_cluster WITH (FORCE)")
        connection.execute("CREATE DATABASE handbook_cluster")
    tmp = tmp_path_factory.mktemp("cluster")
    tmp.chmod(0o755)
    redis_port = free_port()
    if not AZURITE.exists():
        pytest.fail("azurite is missing: `make install` installs it from npm")
    azurite = Azurite(tmp / "azurite")
    azurite.start()
    azurite.create_container("handboka")
    sink = SmtpSink()
    sink.start()
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SETTINGS_MODULE": "handbook.settings",
        "DATABASE_URL": database_url,
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(sink.port),
        "EMAIL_TIMEOUT": "5",
        # Retries every second, for long enough to outlast the SMTP outage.
        "EMAIL_RETRY_WAIT": "1",
        "EMAIL_RETRY_EXPONENTIAL": "0",
        "EMAIL_MAX_ATTEMPTS": str(int(OUTAGE_SECONDS * 2) + 20),
        # A killed worker is noticed within seconds, not a minute.
        "JOBS_HEARTBEAT_SECONDS": "1",
        "JOBS_STALLED_SECONDS": "2",
        "JOBS_STALLED_CRON": "* * * * * *",
        "AXES_ENABLED": "true",
        "AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string,
        "AZURE_STORAGE_CONTAINER": "handboka",
    }
    manage("migrate", "--no-input", "-v", "0", database_url=database_url)
    manage("load_handbook", database_url=database_url)
    cluster = Cluster(database_url=database_url, env=env, tmp=tmp, sink=sink)
    try:
        cluster.start(
            "redis",
            [
                _tool("redis-server"),
                "--bind",
                "127.0.0.1",
                "--port",
                str(redis_port),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
        )
        cluster.start_app_server("a")
        cluster.start_app_server("b")
        cluster.start_worker()
        nginx_port = free_port()
        servers = [cluster.servers["a"], cluster.servers["b"]]
        config = nginx_config(tmp, servers, nginx_port, tls=False)
        cluster.start("nginx", [_tool("nginx"), "-c", str(config), "-g", "daemon off;"])
        cluster.nginx_url = f"http://127.0.0.1:{nginx_port}"
        wait_until(lambda: _answers(cluster.nginx_url + "/helse/"), "nginx")
        yield cluster
    finally:
        cluster.stop_all()
        sink.stop()
        azurite.stop()


# --- helpers -------------------------------------------------------------------------------------


class _Forms(HTMLParser):
    """The fields of every form on a page (inputs, checked radios, textareas, selected options)."""

    def __init__(self):
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append((a.get("action") or "", {}))
        elif not self.forms:
            return
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("radio", "checkbox") and "checked" not in a:
                return
            if kind not in ("submit", "button"):
                self.forms[-1][1][a["name"]] = a.get("value") or ""
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self.forms[-1][1][a["name"]] = ""

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea and self.forms:
            self.forms[-1][1][self._textarea] += data


def form_fields(html: str, action: str = "") -> dict[str, str]:
    parser = _Forms()
    parser.feed(html)
    for form_action, fields in parser.forms:
        if form_action == action and "csrfmiddlewaretoken" in fields:
            return fields
    raise AssertionError(f"no form with action {action!r}")


def publish_editorial_change(editor: Browser, marker: str) -> None:
    """Through the editor's own pages: start a draft, add a paragraph, publish it (editorial)."""
    base = "/redaksjon/bergen/sosiale-medier/"
    overview = editor.get(base).body
    answer = editor.request(base + "utkast/start/", form_fields(overview, "utkast/start/"))
    assert answer.status == 302, answer.body[:300]
    fields = form_fields(editor.get(base + "utkast/").body)
    fields["body"] = fields["body"].rstrip() + f"\n\n{marker}\n"
    fields["neste"] = "publiser"
    answer = editor.request(base + "utkast/", fields)
    assert answer.status == 302, answer.body[:500]
    fields = form_fields(editor.get(base + "publiser/").body)
    fields.update(change_kind="editorial", change_note="Rettet en formulering.")
    answer = editor.request(base + "publiser/", fields)
    assert answer.status == 302 and answer.headers["Location"].endswith(base), answer.body[:500]


# --- the tests -----------------------------------------------------------------------------------


def test_a_publish_through_server_a_is_what_server_b_serves_next(cluster):
    page = "/bergen/sosiale-medier/"
    reader_b = Browser(cluster.servers["b"])
    # A signed-in employee reads it on B too: its shared parts are cached (policies.pageparts).
    employee_b = Browser(cluster.servers["b"])
    employee_b.log_in("ansatt.bergen")
    # B has the page in the shared cache, and in its short-lived "current page" entry.
    for _ in range(3):
        assert reader_b.get(page).status == 200
        assert employee_b.get(page).status == 200
    editor = Browser(cluster.servers["a"])
    editor.log_in("redaktor.bergen")
    marker = f"Klyngetest {time.time_ns()}."
    publish_editorial_change(editor, marker)
    # The very next anonymous request to B (and through nginx) already has it, and so does the
    # signed-in employee's.
    assert marker in reader_b.get(page).body
    assert marker in Browser(cluster.nginx_url).get(page).body
    signed_in = employee_b.get(page).body
    assert marker in signed_in and "Kari Nordmann" in signed_in


def test_an_image_uploaded_through_server_a_is_served_by_server_b(cluster):
    import io
    import json

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (20, 120, 200)).save(buffer, "PNG")
    editor = Browser(cluster.servers["a"])
    editor.log_in("redaktor.bergen")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', editor.get("/redaksjon/").body)
    boundary = "----klyngetest"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrfmiddlewaretoken"\r\n\r\n'
            f"{token.group(1)}\r\n--{boundary}\r\n"
            'Content-Disposition: form-data; name="image"; filename="bilde.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        + buffer.getvalue()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    import urllib.request

    request = urllib.request.Request(
        editor.base + "/redaksjon/markdownx/upload/",
        data=body,
        headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "X-Requested-With": "XMLHttpRequest",
            "Referer": editor.base + "/redaksjon/",
        },
    )
    with editor.opener.open(request, timeout=30) as response:
        code = json.loads(response.read())["image_code"]
    url = code[code.index("(") + 1 : -1]
    # Stored in the blob container, not on A's disk: B (and nginx) serve it.
    editor.base = cluster.servers["b"]
    request = urllib.request.Request(editor.base + url)
    with editor.opener.open(request, timeout=30) as response:
        assert response.status == 200 and response.read().startswith(b"\x89PNG")
    assert Browser(cluster.nginx_url).get(url).status == 404  # not used by a policy: editors only


def test_a_session_started_on_server_a_holds_on_server_b_and_ends_on_both(cluster):
    employee = Browser(cluster.servers["a"])
    employee.log_in("ansatt.bergen")
    employee.base = cluster.servers["b"]
    assert "Kari Nordmann" in employee.get("/bergen/").body
    employee.base = cluster.nginx_url
    assert "Kari Nordmann" in employee.get("/bergen/").body
    # Sessions are read from the shared cache (people.sessions): signing out on A ends it on B.
    cookie = next(c for c in employee.cookies if "sessionid" in c.name)
    employee.base = cluster.servers["a"]
    assert employee.post_form("/logg-ut/", {}, form_page="/bergen/").status == 302
    on_b = Browser(cluster.servers["b"])
    on_b.cookies.set_cookie(cookie)
    answer = on_b.get("/meg/")
    assert answer.status == 302 and answer.headers["Location"].startswith("/logg-inn/")


def test_a_lock_out_started_on_server_a_holds_on_server_b(cluster):
    on_a = Browser(cluster.servers["a"])
    for _ in range(5):
        on_a.post_form("/logg-inn/", {"username": "ansatt.moskenes", "password": "feil"})
    on_b = Browser(cluster.servers["b"])
    locked = on_b.post_form("/logg-inn/", {"username": "ansatt.moskenes", "password": "demo"})
    assert locked.status == 429 and "For mange mislykkede innlogginger" in locked.body


MAKE_MASS = f"""
from people.models import Organisation, Person, Unit
bergen = Organisation.objects.get(slug="bergen")
unit = Unit.objects.get(organisation=bergen, name="{MANAGED_UNIT}", parent=None)
Person.objects.bulk_create(
    Person(username=f"masse{{n}}", first_name="Masse", last_name=str(n), email=f"masse{{n}}@example.invalid",
           organisation=bergen, unit=unit, password="!")
    for n in range({MASS_PEOPLE})
)
"""


def _send_reminders(cluster) -> int:
    """The manager asks, through nginx, for reminders about the social-media policy; returns how
    many e-mails the worker queued when it expanded the run the request wrote."""
    manager = Browser(cluster.nginx_url)
    manager.log_in("leder.bergen")
    last_run = cluster.query("SELECT coalesce(max(id), 0) FROM policies_reminderrun")[0][0]
    path = "/oversikt/retningslinje/sosiale-medier/paminnelse/"
    answer = manager.post_form(path, {})
    assert answer.status == 302, answer.body[:500]

    def expanded() -> list:
        return cluster.query(
            f"SELECT queued FROM policies_reminderrun WHERE id > {last_run}"  # noqa: S608
            " AND expanded_at IS NOT NULL"
        )

    wait_until(lambda: len(expanded()) == 1, "the worker to expand the reminder run", 120)
    return expanded()[0][0]


def _statuses(cluster) -> dict[str, int]:
    return dict(cluster.query("SELECT status, count(*) FROM outbox_email GROUP BY status"))


def test_a_worker_killed_mid_run_delivers_every_reminder_exactly_once(cluster):
    cluster.shell(MAKE_MASS)
    before = cluster.sink.count()
    queued = _send_reminders(cluster)
    assert queued >= MASS_PEOPLE
    wait_until(lambda: cluster.sink.count() - before >= queued // 4, "a quarter to be sent", 600)
    cluster.kill("worker")
    at_kill = cluster.sink.count() - before
    assert at_kill < queued, "the run was over before the kill: nothing was proven"
    cluster.start_worker()
    wait_until(lambda: _statuses(cluster).get("venter", 0) == 0, "every e-mail sent", 1200)
    sent = cluster.query("SELECT id FROM outbox_email WHERE status = 'sendt'")
    per_message = collections.Counter(r.message_id for r in cluster.sink.received[before:])
    assert len(sent) == queued and _statuses(cluster).get("feilet", 0) == 0
    assert set(per_message) == {f"<handboka.{pk}@127.0.0.1>" for (pk,) in sent}
    duplicated = [m for m, n in per_message.items() if n > 1]
    print(f"worker killed after {at_kill} of {queued}; duplicates: {len(duplicated)}")
    # "Exactly once as far as SMTP allows": a kill after the sink accepted a message and before the
    # worker committed "sendt" sends that message again, with the same Message-ID so the receiving
    # mail system can drop the copy. At most one message per concurrently running job is in that
    # window (JOBS_CONCURRENCY, 4); anything more would be a lost or repeated batch.
    assert len(duplicated) <= 4, duplicated
    assert all(per_message[m] == 2 for m in duplicated), per_message


def test_smtp_down_delays_reminders_and_loses_none(cluster):
    cluster.query("UPDATE policies_reminder SET sent_at = sent_at - interval '8 days'")
    cluster.sink.stop()
    try:
        before = cluster.sink.count()
        queued = _send_reminders(cluster)
        assert queued > 0
        time.sleep(OUTAGE_SECONDS)
        # Down the whole time: nothing sent, nothing given up.
        assert _statuses(cluster).get("venter") == queued
        failing = cluster.query("SELECT count(*) FROM outbox_email WHERE last_error <> ''")[0][0]
        assert failing > 0
    finally:
        cluster.sink.start()
    wait_until(lambda: _statuses(cluster).get("venter", 0) == 0, "the delayed e-mails", 600)
    received = collections.Counter(r.message_id for r in cluster.sink.received[before:])
    assert len(received) == queued and set(received.values()) == {1}
    assert _statuses(cluster).get("feilet", 0) == 0


MAKE_BURST = f"""
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from policies.models import PolicyVersion
from people.models import Organisation, Person
bergen = Organisation.objects.get(slug="bergen")
version = PolicyVersion.objects.get(policy__organisation=bergen, policy__slug="sosiale-medier", status="published")
print("VERSION", version.pk, version.number, version.text_hash)
for n in range({BURST_PEOPLE}):
    person = Person.objects.create(username=f"klynge{{n}}", organisation=bergen, first_name="Klynge", last_name=str(n))
    session = SessionStore()
    session[SESSION_KEY] = str(person.pk)
    session[BACKEND_SESSION_KEY] = "people.backends.PersonBackend"
    session[HASH_SESSION_KEY] = person.get_session_auth_hash()
    session.create()
    print("PERSON", person.pk, session.session_key)
"""


def test_server_a_killed_during_a_confirmation_burst_loses_nothing_answered_as_saved(cluster):
    lines = cluster.shell(MAKE_BURST)
    _, version_pk, number, text_hash = next(
        line for line in lines if line.startswith("VERSION")
    ).split()
    people = [tuple(line.split()[1:]) for line in lines if line.startswith("PERSON")]
    csrf = "k" * 32
    done = 0
    lock = threading.Lock()
    kill_now = threading.Event()

    def confirm(person_pk: str, session_key: str) -> tuple[str, bool]:
        nonlocal done
        browser = Browser(cluster.nginx_url)
        browser.opener.addheaders = [("Cookie", f"sessionid={session_key}; csrftoken={csrf}")]
        form = {"csrfmiddlewaretoken": csrf, "versjon": number, "tekst": text_hash}
        try:
            ok = confirmation_succeeded(browser.request("/bergen/sosiale-medier/bekreft/", form))
        except OSError:
            ok = False  # no answer: nothing was promised
        with lock:
            done += 1
            if done == BURST_PEOPLE // 3:
                kill_now.set()
        return person_pk, ok

    def killer():
        kill_now.wait()
        cluster.kill("a")  # the master and its workers, mid-burst

    with ThreadPoolExecutor(max_workers=9) as pool:
        killing = pool.submit(killer)
        results = list(pool.map(lambda p: confirm(*p), people))
        killing.result()

    promised = {person for person, ok in results if ok}
    assert promised, "no confirmation succeeded at all"
    rows = cluster.query(
        "SELECT person_id::text, count(*) FROM policies_acknowledgement "
        "WHERE version_id = %s AND person_id = ANY(%s::bigint[]) GROUP BY person_id",
        int(version_pk),
        [int(pk) for pk, _ in people],
    )
    stored = dict(rows)
    assert promised <= set(stored), f"answered as saved but lost: {sorted(promised - set(stored))}"
    assert set(stored.values()) <= {1}, "a confirmation was stored twice"
    # Server B alone carries on behind nginx.
    assert Browser(cluster.nginx_url).get("/bergen/sosiale-medier/").status == 200
    print(f"burst through nginx: {len(promised)} of {BURST_PEOPLE} answered as saved; A killed")
