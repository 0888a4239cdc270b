"""Policy page throughput through gunicorn against a static file of the same size, and SQL per view."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils.crypto import get_random_string

from bench import Result
from bench.acknowledgements import _session_cookie
from bench.server import gunicorn, hammer, interleaved, request
from people.models import Person
from policies.models import Policy, Status, Visibility

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


def _queries(path: str, user=None) -> tuple[int, int]:
    """SQL for a first view (rendered) and the next one (from the anonymous page cache, if any)."""
    cache.clear()
    client = Client()
    if user is not None:
        client.force_login(user)
    counts = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        assert response.status_code == 200, response.status_code
        counts.append(len(queries))
    return counts[0], counts[1]


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
        # A query string bypasses the anonymous page cache (Redis, nginx): every view is made as a
        # signed-in reader's is, from the shared parts kept per process (policies.pageparts).
        uncached_path = f"{path}?bench=1"
        # What a browser sends after its first page: the session and the CSRF cookie it was
        # given (without it, every answer would make and set a new CSRF secret).
        signed_in = (
            {
                "Cookie": f"{_session_cookie(reader)}; {settings.CSRF_COOKIE_NAME}={get_random_string(32)}"
            }
            if reader
            else None
        )
        runs = {
            "page": (path, None),
            "rendered": (uncached_path, None),
            "static": (static_path, None),
        }
        if signed_in:
            runs["personal"] = (path, signed_in)
        for warm, headers in runs.values():
            hammer(port, warm, threads=THREADS, seconds=1.0, headers=headers)
        loads = interleaved(port, runs, seconds=SECONDS / 4)
    dynamic, rendered, static = loads["page"], loads["rendered"], loads["static"]
    personal = loads.get("personal")
    ratio = dynamic.per_second / static.per_second
    rendered_ratio = rendered.per_second / static.per_second
    print(f"   page {path} ({len(page)} bytes): {dynamic.requests} ok, {dynamic.errors} errors")
    print(f"   page without cache: {rendered.requests} ok, {rendered.errors} errors")
    print(f"   static file: {static.requests} ok, {static.errors} errors")
    results = [
        Result(
            "Retningslinjeside, anonym, via gunicorn",
            f"{dynamic.per_second:.0f} req/s ({len(page) // 1024} kB)",
        ),
        Result("  samme side uten hurtigbuffer", f"{rendered.per_second:.0f} req/s"),
        Result("Statisk fil, samme størrelse (whitenoise)", f"{static.per_second:.0f} req/s"),
        Result("Side mot statisk fil (gunicorn alene)", f"{ratio:.2f}×", "≥ 1.0× via nginx"),
        Result("  uten hurtigbuffer mot statisk fil", f"{rendered_ratio:.2f}×"),
        Result(
            "SQL per sidevisning, anonym (første / neste)",
            f"{anonymous_queries[0]} / {anonymous_queries[1]}",
            "≤ 4",
            max(anonymous_queries) <= 4,
        ),
    ]
    if person_queries is not None and personal is not None:
        personal_ratio = personal.per_second / static.per_second
        # The machine's speed drifts: each round's own ratio shows how far.
        round_ratios = [
            mine / theirs for mine, theirs in zip(personal.rounds, static.rounds, strict=True)
        ]
        print(f"   signed-in page: {personal.requests} ok, {personal.errors} errors")
        results += [
            Result("Retningslinjeside, innlogget ansatt", f"{personal.per_second:.0f} req/s"),
            Result(
                "  innlogget mot statisk fil",
                f"{personal_ratio:.2f}× (runder {min(round_ratios):.2f}–{max(round_ratios):.2f})",
                "≥ 0.2×",
                personal_ratio >= 0.2,
            ),
            Result(
                "SQL per sidevisning, innlogget ansatt",
                str(person_queries[1]),
                "≤ 5",
                person_queries[1] <= 5,
            ),
        ]
    return results
