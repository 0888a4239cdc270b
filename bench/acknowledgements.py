"""An acknowledgement burst: N clients confirm the same version at once through gunicorn.

Every client has its own session and CSRF token and posts twice at the same moment (a double
click). Afterwards the database must hold exactly one row per client: none lost, none doubled.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from http.cookies import SimpleCookie

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.db.models import Count

from bench import Result, env_int
from bench.server import gunicorn, request
from people.models import Person, Unit
from policies.models import Acknowledgement, Policy, Status

CLIENTS = env_int("BENCH_ACK_CLIENTS", 48)
POSTS_PER_CLIENT = 2


def _people(policy: Policy) -> list[Person]:
    """Fresh people for this run (acknowledgements are append-only, so earlier runs stay)."""
    run = uuid.uuid4().hex[:8]
    unit = Unit.objects.filter(organisation=policy.organisation).first()
    Person.objects.bulk_create(
        Person(
            username=f"burst-{run}-{i}",
            first_name="Burst",
            last_name=str(i),
            organisation=policy.organisation,
            unit=unit,
            password="!",
        )
        for i in range(CLIENTS)
    )
    return list(Person.objects.filter(username__startswith=f"burst-{run}-").order_by("pk"))


def _session_cookie(person: Person) -> str:
    session = SessionStore()
    session[SESSION_KEY] = str(person.pk)
    session[BACKEND_SESSION_KEY] = "people.backends.PersonBackend"
    session[HASH_SESSION_KEY] = person.get_session_auth_hash()
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def run() -> list[Result]:
    policy = (
        Policy.objects.filter(organisation__slug__startswith="bench-", audience_all=True)
        .filter(versions__status=Status.PUBLISHED)
        .select_related("organisation")
        .order_by("organisation_id", "pk")
        .first()
    )
    version = policy.versions.current().get()
    people = _people(policy)
    path = policy.get_absolute_url()
    clients = []
    with gunicorn(workers=3) as port:
        for person in people:
            cookie = _session_cookie(person)
            status, headers, body = request(port, "GET", path, headers={"Cookie": cookie})
            assert status == 200, status
            jar = SimpleCookie(headers.get("Set-Cookie", ""))
            csrf_cookie = jar[settings.CSRF_COOKIE_NAME].value
            token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1)
            assert b"Jeg har lest og forst" in body
            clients.append(
                (person, f"{cookie}; {settings.CSRF_COOKIE_NAME}={csrf_cookie}", token.decode())
            )

        barrier = threading.Barrier(len(clients) * POSTS_PER_CLIENT)
        statuses: list[int] = []
        lock = threading.Lock()

        def post(cookie: str, token: str):
            form = f"csrfmiddlewaretoken={token}&versjon={version.number}&tekst={version.text_hash}"
            barrier.wait(timeout=60)
            try:
                status, headers, _ = request(
                    port,
                    "POST",
                    f"{path}bekreft/",
                    body=form,
                    headers={
                        "Cookie": cookie,
                        "Content-Type": "application/x-www-form-urlencoded",
                    },
                )
            except OSError:
                status = 0
            with lock:
                statuses.append(status)

        threads = [
            threading.Thread(target=post, args=(cookie, token))
            for _, cookie, token in clients
            for _ in range(POSTS_PER_CLIENT)
        ]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started

    ids = [p.pk for p in people]
    rows = Acknowledgement.objects.filter(person_id__in=ids, version=version)
    per_person = dict(rows.values_list("person_id").annotate(n=Count("pk")))
    lost = sum(1 for pk in ids if per_person.get(pk, 0) == 0)
    duplicates = sum(n - 1 for n in per_person.values() if n > 1)
    redirects = sum(1 for s in statuses if s == 302)
    return [
        Result(
            f"Bekreftelser: {len(clients)} klienter × {POSTS_PER_CLIENT} samtidige POST",
            f"{len(clients) / elapsed:.0f} bekreftelser/s ({redirects}/{len(statuses)} svar 302)",
        ),
        Result("Bekreftelser tapt", str(lost), "0", lost == 0),
        Result("Bekreftelser doble", str(duplicates), "0", duplicates == 0),
    ]
