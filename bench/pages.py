"""Policy page throughput through gunicorn against a static file of the same size, and SQL per view."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench import Result
from bench.server import gunicorn, hammer, request
from policies.models import Person, Policy, Status, Visibility

THREADS = 8
SECONDS = 8.0


def _page_path() -> str:
    policy = (
        Policy.objects.filter(
            visibility=Visibility.PUBLIC, versions__status=Status.PUBLISHED, slug__isnull=False
        )
        .select_related("organisation")
        .order_by("organisation_id", "pk")
        .first()
    )
    return policy.get_absolute_url()


def _queries(path: str, user=None) -> int:
    client = Client()
    if user is not None:
        client.force_login(user)
    client.get(path)  # the first view may activate due versions; count a steady-state view
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, response.status_code
    return len(queries)


def run() -> list[Result]:
    path = _page_path()
    anonymous_queries = _queries(path)
    reader = Person.objects.filter(username__startswith="bench").order_by("pk").first()
    person_queries = _queries(path, reader) if reader else None

    with gunicorn() as port:
        status, _, page = request(port, "GET", path)
        assert status == 200, status
        static_dir = settings.STATIC_ROOT / "bench"
        static_dir.mkdir(parents=True, exist_ok=True)
        # whitenoise indexes STATIC_ROOT when it starts, so the file must exist first: restart.
        (static_dir / "page.html").write_bytes(page)
    with gunicorn() as port:
        static_path = f"{settings.STATIC_URL}bench/page.html"
        status, _, data = request(port, "GET", static_path)
        assert status == 200 and len(data) == len(page), (status, len(data), len(page))
        hammer(port, path, threads=THREADS, seconds=1.0)
        hammer(port, static_path, threads=THREADS, seconds=1.0)
        dynamic = hammer(port, path, threads=THREADS, seconds=SECONDS)
        static = hammer(port, static_path, threads=THREADS, seconds=SECONDS)
    ratio = dynamic.per_second / static.per_second
    print(f"   page {path} ({len(page)} bytes): {dynamic.requests} ok, {dynamic.errors} errors")
    print(f"   static file: {static.requests} ok, {static.errors} errors")
    results = [
        Result(
            "Retningslinjeside via gunicorn",
            f"{dynamic.per_second:.0f} req/s ({len(page) // 1024} kB)",
        ),
        Result("Statisk fil, samme størrelse (whitenoise)", f"{static.per_second:.0f} req/s"),
        Result("Side mot statisk fil", f"{ratio:.2f}×", "≥ 0.3×", ratio >= 0.3),
        Result(
            "SQL per sidevisning, anonym",
            str(anonymous_queries),
            "≤ 4",
            anonymous_queries <= 4,
        ),
    ]
    if person_queries is not None:
        results.append(Result("SQL per sidevisning, innlogget ansatt", str(person_queries)))
    return results
