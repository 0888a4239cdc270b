"""The portal as a real process (gunicorn) against a real, throwaway PostgreSQL cluster that the
tests stop and start underneath it.

The cluster is `scripts/pg.sh start failure` (port $HANDBOOK_FAILURE_PG_PORT, by default the test
port + 1); the database in it is dropped and rebuilt for every run of this module.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from .ports import free_port

ROOT = Path(__file__).resolve().parent.parent
PG = str(ROOT / "scripts" / "pg.sh")


def pg(command: str) -> str:
    result = subprocess.run(
        [PG, command, "failure"], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode in (0, 3), result.stderr
    return result.stdout.strip()


def manage(*args: str, database_url: str) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "handbook.settings",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def wait_until(condition, what: str, attempts: int = 300, pause: float = 0.2):
    """Poll `condition` until it holds; the limit only keeps a broken run from hanging forever."""
    for _ in range(attempts):
        if condition():
            return
        time.sleep(pause)
    raise AssertionError(f"gave up waiting for {what}")


@pytest.fixture(scope="module")
def database_url():
    pg("start")
    url = pg("url")
    # A throwaway database: drop whatever an earlier run left behind.
    import psycopg

    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute("DROP DATABASE IF EXISTS handbook WITH (FORCE)")
        connection.execute("CREATE DATABASE handbook")
    manage("migrate", "--no-input", "-v", "0", database_url=url)
    manage("load_handbook", database_url=url)
    yield url
    pg("stop")


@dataclass
class Portal:
    url: str
    process: subprocess.Popen
    log: Path

    def master_pid(self) -> int:
        return self.process.pid

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]


@pytest.fixture(scope="module")
def portal(database_url, tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "handbook.settings",
        "DB_CONNECT_TIMEOUT": "2",
        "AXES_ENABLED": "false",
    }
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "handbook.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--timeout",
                "30",
                "--graceful-timeout",
                "2",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    portal = Portal(url=f"http://127.0.0.1:{port}", process=process, log=log)

    def answers():
        try:
            return Browser(portal.url).get("/tilgjengelighet/").status == 200
        except OSError:
            return False

    wait_until(answers, "gunicorn to answer")
    yield portal
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass
class Answer:
    status: int
    headers: dict
    body: str


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """A minimal HTTP client with cookies: enough to log in and post forms with their CSRF token."""

    def __init__(self, base: str):
        self.base = base
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirects()
        )

    def request(self, path: str, data: dict | bytes | None = None) -> Answer:
        body = urllib.parse.urlencode(data).encode() if isinstance(data, dict) else data
        request = urllib.request.Request(self.base + path, data=body)
        if body is not None:
            request.add_header("Referer", self.base + path)
        try:
            with self.opener.open(request, timeout=30) as response:
                return Answer(response.status, dict(response.headers), response.read().decode())
        except urllib.error.HTTPError as error:
            return Answer(error.code, dict(error.headers), error.read().decode())

    def get(self, path: str) -> Answer:
        return self.request(path)

    def post_form(self, path: str, data: dict, *, form_page: str | None = None) -> Answer:
        page = self.get(form_page or path)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
        assert token, f"no CSRF token on {form_page or path}"
        return self.request(path, {"csrfmiddlewaretoken": token.group(1), **data})

    def log_in(self, username: str, password: str = "demo") -> None:
        answer = self.post_form("/logg-inn/", {"username": username, "password": password})
        assert answer.status == 302, answer.body[:500]


def assert_unavailable_page(answer: Answer):
    assert answer.status == 503, answer.body[:500]
    assert "Prøv igjen om litt" in answer.body
    assert "Traceback" not in answer.body and "OperationalError" not in answer.body
    assert answer.headers.get("Retry-After") == "30"


def test_pages_answer_503_while_the_database_is_down_and_recover_by_themselves(portal):
    visitor = Browser(portal.url)
    employee = Browser(portal.url)
    employee.log_in("ansatt.bergen")
    assert visitor.get("/moskenes/sosiale-medier/").status == 200
    assert "Kari Nordmann" in employee.get("/bergen/").body
    login_form = visitor.get("/logg-inn/").body
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_form).group(1)
    # The confirmation form as the employee has it on screen when the database goes away.
    policy_page = employee.get("/bergen/sosiale-medier/").body
    confirmation = {
        name: re.search(rf'name="{name}" value="([^"]+)"', policy_page).group(1)
        for name in ("csrfmiddlewaretoken", "versjon", "tekst")
    }

    pg("stop")
    try:
        # Every worker: enough requests that both have met the dead connection.
        for _ in range(4):
            assert_unavailable_page(visitor.get("/"))
            assert_unavailable_page(visitor.get("/moskenes/"))
            assert_unavailable_page(visitor.get("/moskenes/sosiale-medier/versjon/1/"))
            assert_unavailable_page(visitor.get("/sok/?q=taushetsplikt"))
            # A public policy page may still come from the short-lived page cache: the guideline
            # itself, or the same calm 503, never anything else.
            cached = visitor.get("/moskenes/sosiale-medier/")
            if cached.status == 200:
                assert "sosiale medier" in cached.body
            else:
                assert_unavailable_page(cached)
            # A logged-in page: the session lookup itself needs the database.
            assert_unavailable_page(employee.get("/bergen/"))
            assert_unavailable_page(employee.get("/logg-ut/"))
        # A form sent while the database is down (its page was loaded before) is answered the same way.
        form = {"csrfmiddlewaretoken": token, "username": "ansatt.bergen", "password": "demo"}
        assert_unavailable_page(visitor.request("/logg-inn/", form))
        # The health check tells the load balancer, part by part (operations.views.health).
        health = visitor.get("/helse/")
        assert health.status == 503
        assert json.loads(health.body)["database"] == "feil"
        # A confirmation sent now is not reported as saved.
        assert_unavailable_page(employee.request("/bergen/sosiale-medier/bekreft/", confirmation))
    finally:
        pg("start")

    # No restart of the portal: its workers reconnect on their own (CONN_HEALTH_CHECKS).
    wait_until(lambda: visitor.get("/helse/").status == 200, "recovery")
    assert visitor.get("/moskenes/sosiale-medier/").status == 200
    for _ in range(4):
        assert visitor.get("/").status == 200
        # The session survived in the database: still logged in.
        assert "Kari Nordmann" in employee.get("/bergen/").body
    # Nothing half-saved: the confirmation is still to be done, and sending it again works.
    assert "Ikke bekreftet" in employee.get("/bergen/sosiale-medier/").body
    answer = employee.request("/bergen/sosiale-medier/bekreft/", confirmation)
    assert confirmation_succeeded(answer)
    assert "Du bekreftet versjon" in employee.get("/bergen/sosiale-medier/").body
    # The people see a calm page; the operators' log says what happened.
    assert "OperationalError" in portal.log.read_text()


def test_a_request_body_over_the_limit_gets_a_clear_message_through_gunicorn(portal):
    visitor = Browser(portal.url)
    answer = visitor.post_form(
        "/logg-inn/", {"username": "ansatt.bergen", "password": "x" * 3_000_000}
    )
    assert answer.status in (400, 413)
    assert "Forespørselen kunne ikke behandles" in answer.body
    assert "for mye data" in answer.body


# --- A worker killed during an acknowledgement burst --------------------------------------------

BURST_PEOPLE = 60

# Run in the portal's database: people of Bergen who must confirm its policy, each with a session
# (no password hashing for 60 logins), and what the confirmation form would send.
MAKE_PEOPLE = f"""
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from policies.models import PolicyVersion
from people.models import Organisation, Person
bergen = Organisation.objects.get(slug="bergen")
version = PolicyVersion.objects.get(policy__organisation=bergen, policy__slug="sosiale-medier", status="published")
print("VERSION", version.pk, version.number, version.text_hash)
for n in range({BURST_PEOPLE}):
    person, _ = Person.objects.get_or_create(username=f"burst{{n}}", defaults={{"organisation": bergen, "first_name": "Burst", "last_name": str(n)}})
    person.set_unusable_password(); person.save()
    session = SessionStore()
    session[SESSION_KEY] = str(person.pk)
    session[BACKEND_SESSION_KEY] = "people.backends.PersonBackend"
    session[HASH_SESSION_KEY] = person.get_session_auth_hash()
    session.create()
    print("PERSON", person.pk, session.session_key)
"""

COUNT_ACKS = """
from django.db.models import Count
from policies.models import Acknowledgement
rows = Acknowledgement.objects.filter(person__username__startswith="burst").values("person_id", "version_id").annotate(n=Count("id"))
for row in rows:
    print("ACK", row["person_id"], row["version_id"], row["n"])
"""


def shell(code: str, database_url: str) -> list[str]:
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "handbook.settings",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def confirmation_succeeded(answer: Answer) -> bool:
    """The confirm view redirects either way; success is the "Bekreftet" message it sets."""
    from django.contrib.messages.storage.cookie import CookieStorage
    from django.http import HttpRequest

    if answer.status != 302:
        return False
    storage = CookieStorage(HttpRequest())
    for header, value in answer.headers.items():
        if header.lower() != "set-cookie" or not value.startswith(f"{storage.cookie_name}="):
            continue
        raw = value.split(";", 1)[0].split("=", 1)[1].strip('"')
        messages = storage._decode(raw.replace("\\054", ",").replace('\\"', '"')) or []
        return any("Bekreftet" in str(message) for message in messages)
    return False


def test_confirmations_answered_as_saved_survive_a_worker_killed_mid_burst(portal, database_url):
    from concurrent.futures import ThreadPoolExecutor
    from threading import Event, Lock

    import psycopg
    from django.urls import reverse

    confirm_path = reverse(
        "confirm", kwargs={"org_slug": "bergen", "policy_slug": "sosiale-medier"}
    )

    lines = shell(MAKE_PEOPLE, database_url)
    _, version_pk, number, text_hash = next(
        line for line in lines if line.startswith("VERSION")
    ).split()
    people = [line.split()[1:] for line in lines if line.startswith("PERSON")]
    assert len(people) == BURST_PEOPLE

    csrf = "q" * 32  # any 32-character secret works as both cookie and form token
    done = 0
    lock = Lock()
    kill_now = Event()
    lost: list[str] = []  # requests that got no answer at all: the kill hit them in flight

    def confirm(person_pk: str, session_key: str) -> tuple[str, bool]:
        nonlocal done
        browser = Browser(portal.url)
        browser.opener.addheaders = [("Cookie", f"sessionid={session_key}; csrftoken={csrf}")]
        form = {"csrfmiddlewaretoken": csrf, "versjon": number, "tekst": text_hash}
        try:
            answer = browser.request(confirm_path, form)
            ok = confirmation_succeeded(answer)
        except OSError:
            # The worker died with the request: no answer, so nothing was promised.
            ok = False
            with lock:
                lost.append(person_pk)
        with lock:
            done += 1
            if done == BURST_PEOPLE // 3:
                kill_now.set()
        return person_pk, ok

    def waiting_confirmations(cursor) -> int:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]

    def killer():
        kill_now.wait()
        # Hold the version row so that confirmations (which take a share lock on it) stop inside
        # their transaction: once every worker's connection waits, each worker is mid-request,
        # and the one killed is sure to die with a request in flight.
        with psycopg.connect(database_url) as holder, holder.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM policies_policyversion WHERE id = %s FOR UPDATE", [int(version_pk)]
            )
            with psycopg.connect(database_url, autocommit=True) as watcher:
                wait_until(
                    lambda: waiting_confirmations(watcher.cursor()) >= len(portal.worker_pids()),
                    "every worker to be inside a confirmation",
                )
            workers = portal.worker_pids()
            os.kill(workers[0], signal.SIGKILL)
            holder.rollback()
        return workers[0]

    with ThreadPoolExecutor(max_workers=9) as pool:
        killed = pool.submit(killer)
        results = list(pool.map(lambda p: confirm(*p), people))
        killed_pid = killed.result()

    promised = {person for person, ok in results if ok}
    assert promised, "no confirmation succeeded at all"
    assert lost, "the kill hit no request in flight"
    # Gunicorn replaced the killed worker.
    wait_until(
        lambda: killed_pid not in portal.worker_pids() and len(portal.worker_pids()) == 2,
        "gunicorn to replace the killed worker",
    )

    def stored() -> dict[str, int]:
        rows = [line.split() for line in shell(COUNT_ACKS, database_url) if line.startswith("ACK")]
        return {person: int(n) for _, person, version, n in rows if version == version_pk}

    acks = stored()
    assert promised <= set(acks), f"confirmed but not stored: {sorted(promised - set(acks))}"
    assert all(n == 1 for n in acks.values()), "a confirmation was stored twice"

    # Those who got no answer try again (as a person would): each ends with exactly one row.
    for person, ok in results:
        if not ok:
            _, retried = confirm(person, dict(people)[person])
            assert retried
    acks = stored()
    assert set(acks) == {person for person, _ in people}
    assert all(n == 1 for n in acks.values())
    print(
        f"burst: {len(promised)} of {BURST_PEOPLE} confirmed before retry; worker {killed_pid} "
        f"killed with {len(lost)} request(s) in flight"
    )
