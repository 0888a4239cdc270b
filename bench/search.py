"""Search latency over 50 fixed queries, against a naive ILIKE scan of the same sections.

Every hit that can be among the best is ranked (coverage, phrase, cover density;
policies.search, and across all kommuner policies.ranking's lists): there is no sample. The
first search of each question, which builds its terms' ranking lists, is timed apart.
"All kommuner" is an anonymous reader over every public policy; "own kommune" is a logged-in
employee searching their own kommune (public and internal policies), as the search page does
by default.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from pathlib import Path

from django.contrib.auth.models import AnonymousUser
from django.db import connection, reset_queries, transaction
from django.db.models import Q

from bench import Result, median, percentile
from people.models import Person
from policies.models import Section, Status
from policies.search import PAGE_SIZE, search

# What people type, by kind: single words (common and rare), several words and questions, web
# search operators, typos, partial words, and compounds, hyphenated words and synonyms.
QUERY_CLASSES = {
    "enkeltord": [
        "taushetsplikt", "privatperson", "folkevalgte", "kriser", "ytringsfrihet", "lojalitet",
        "personvern", "facebook", "twitter", "kommentarer", "saksbehandling", "rådmannen",
        "informasjon", "omdømme", "arbeidsgiver", "ansatte", "nettsider", "presse", "kommunen",
        "pårørende", "opphavsrett", "etikk", "varsling", "kildekritikk", "moderering", "xyzzy",
    ],
    "flere ord og spørsmål": [
        "sosiale medier", "hvem uttaler seg", "slik bør du svare", "temaer du ikke kommenterer",
        "din rolle", "avgrensede aktiviteter", "kampanjer prosjekter", "it's learning",
        "elever foreldre", "kan jeg kritisere kommunen på facebook",
    ],
    "operatorer": ["\"sosiale medier\"", "lojalitet -taushetsplikt", "facebook OR twitter"],
    "skrivefeil": ["tauhetsplikt", "privatpersn"],
    "prefiks": ["krisekomm", "kommunikasjons", "ytrings", "saksbehandl"],
    "sammensatt, bindestrek, synonym": [
        "krisekommunikasjon", "elevkontakt", "IT-sikkerhet", "e-post", "SoMe",
    ],
}  # fmt: skip
QUERIES = [q for queries in QUERY_CLASSES.values() for q in queries]

ROUNDS = 3


def _naive(query: str) -> int:
    """What search would be without the index: ILIKE on every current section, then a page."""
    condition = Q(title__icontains=query) | Q(heading__icontains=query) | Q(text__icontains=query)
    sections = Section.objects.filter(condition, version__status=Status.PUBLISHED)
    count = sections.count()
    list(sections.order_by("pk").values_list("pk", "heading")[:PAGE_SIZE])
    return count


def _timed(fn, query: str) -> float:
    started = time.perf_counter()
    fn(query)
    return (time.perf_counter() - started) * 1000


@contextmanager
def _cpu(label: str, searches: int):
    """Print the CPU time a search costs, client and server, which other load does not inflate.

    The server's share is read from /proc for this connection's backend (a local cluster
    only); parallel workers are not counted, so across all kommuner it is a lower bound.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()

    def backend_seconds() -> float | None:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    client, server = time.process_time(), backend_seconds()
    yield
    client = (time.process_time() - client) * 1000 / searches
    after = backend_seconds()
    backend = (
        "?" if server is None or after is None else f"{(after - server) * 1000 / searches:.1f}"
    )
    print(f"   CPU per search, {label} (mean): client {client:.1f} ms, server backend {backend} ms")


def run() -> list[Result]:
    assert len(QUERIES) == 50
    anonymous = AnonymousUser()
    employee = Person.objects.select_related("organisation").get(username="bench0")

    def everywhere(q):
        return search(q, user=anonymous)

    def one_org(q):
        return search(q, user=employee, organisation=employee.organisation)

    # The first search of each question on a corpus without ranking lists: each builds the
    # lists of its terms (policies.ranking), once; every later search uses them.
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE policies_rankinglist, policies_rankingentry")
    first = [_timed(everywhere, q) for q in QUERIES]
    for q in QUERIES:  # warm the cache: the figures are for a running server
        everywhere(q)
    with _cpu("all kommuner", ROUNDS * len(QUERIES)):
        fts_all = [min(_timed(everywhere, q) for _ in range(ROUNDS)) for q in QUERIES]
    with _cpu("own kommune", ROUNDS * len(QUERIES)):
        fts_org = [min(_timed(one_org, q) for _ in range(ROUNDS)) for q in QUERIES]
    _naive(QUERIES[0])
    naive = [_timed(_naive, q) for q in QUERIES]
    reset_queries()

    ratio = median(naive) / median(fts_all)
    p95_all = percentile(fts_all, 95)
    slowest = sorted(zip(fts_all, QUERIES, strict=True), reverse=True)[:5]
    print("   slowest (all organisations): " + ", ".join(f"{q!r} {t:.0f} ms" for t, q in slowest))
    slowest = sorted(zip(fts_org, QUERIES, strict=True), reverse=True)[:5]
    print("   slowest (own kommune): " + ", ".join(f"{q!r} {t:.0f} ms" for t, q in slowest))
    print("   p50 / p95 ms by kind of query (all kommuner | own kommune):")
    for kind, queries in QUERY_CLASSES.items():
        of_kind = [i for i, q in enumerate(QUERIES) if q in queries]
        everywhere_ms = [fts_all[i] for i in of_kind]
        own_ms = [fts_org[i] for i in of_kind]
        print(
            f"     {kind} ({len(of_kind)}): "
            f"{median(everywhere_ms):.1f} / {percentile(everywhere_ms, 95):.1f} | "
            f"{median(own_ms):.1f} / {percentile(own_ms, 95):.1f}"
        )
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM policies_section")
        (sections,) = cursor.fetchone()
    lists, publish_ms, published_sections = _publication_with_lists()
    same, compared, unbounded = _same_as_ranking_every_match()
    return [
        Result("Seksjoner i korpuset", f"{sections:,}".replace(",", " ")),
        Result(
            "Søk, alle kommuner: p50 / p95",
            f"{median(fts_all):.1f} / {p95_all:.1f} ms",
            "p95 ≤ 50 ms",
            p95_all <= 50,
        ),
        Result(
            "Søk, egen kommune: p50 / p95",
            f"{median(fts_org):.1f} / {percentile(fts_org, 95):.1f} ms",
            "p95 ≤ 15 ms",
            percentile(fts_org, 95) <= 15,
        ),
        Result(
            "ILIKE-skann: p50 / p95",
            f"{median(naive):.1f} / {percentile(naive, 95):.1f} ms",
        ),
        Result("Søk mot ILIKE (median)", f"{ratio:.0f}× raskere", "≥ 20×", ratio >= 20),
        Result(
            "Rangeringslister mot rangering av alle treff, 200 tilfeldige spørsmål",
            f"{same} av {compared} like ({unbounded} rangert i sin helhet)",
            "alle like",
            same == compared,
        ),
        Result(
            "Første søk etter hvert spørsmål (bygger rangeringslistene): p50 / p95 / maks",
            f"{median(first):.0f} / {percentile(first, 95):.0f} / {max(first):.0f} ms",
        ),
        Result(
            f"Publisering av en versjon ({published_sections} seksjoner) med {lists} "
            "rangeringslister",
            f"{publish_ms:.0f} ms",
        ),
    ]


def _same_as_ranking_every_match() -> tuple[int, int, int]:
    """Whether the ranking lists give the same best 201 as ranking every match, for questions
    drawn (fixed seed) from the vocabulary: words, pairs, triples, quoted pairs, -word."""
    import random

    from policies import ranking
    from policies import search as search_module

    with connection.cursor() as cursor:
        cursor.execute("SELECT word FROM policies_searchterm ORDER BY word")
        vocabulary = [w for (w,) in cursor.fetchall()]
    draw = random.Random(16).choice
    questions = [draw(vocabulary) for _ in range(80)]
    questions += [f"{draw(vocabulary)} {draw(vocabulary)}" for _ in range(70)]
    questions += [f"{draw(vocabulary)} {draw(vocabulary)} {draw(vocabulary)}" for _ in range(30)]
    questions += [f'"{draw(vocabulary)} {draw(vocabulary)}"' for _ in range(10)]
    questions += [f"{draw(vocabulary)} -{draw(vocabulary)}" for _ in range(10)]
    scope = search_module._scope(AnonymousUser(), organisation=None, include_earlier=False)
    limit = search_module.COUNT_CAP + 1
    same = compared = unbounded = 0
    for question in questions:
        plan = search_module.plan(search_module.clean_query(question), organisation_ids=[])
        if plan.is_empty:
            continue
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL enable_seqscan = off")
            try:
                found = [(round(s, 5), i) for s, _, i in ranking.best(scope, plan, limit)]
            except ranking.Unbounded:
                unbounded += 1
                continue
        score, score_params = search_module._score_sql(search_module.SECTIONS, plan)
        source, source_params = scope.text_from(search_module.SECTIONS)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {score}, t.id {source} AND t.search_vector @@ %s::tsquery "  # noqa: S608
                f"ORDER BY 1 DESC, 2 LIMIT {limit}",
                [*score_params, *source_params, plan.literal or plan.any_group],
            )
            expected = [(round(s, 5), i) for s, i in cursor.fetchall()]
        compared += 1
        same += found == expected
        if found != expected:
            print(f"   NOT THE SAME: {question!r}", flush=True)
    return same, compared, unbounded


class _RolledBack(Exception):
    pass


def _publication_with_lists() -> tuple[int, float, int]:
    """How long publishing a version takes with the lists the searches above built (the
    triggers add its sections to each list it matches); rolled back."""
    from policies.models import Policy, RankingList
    from policies.workflow import create_draft, publish

    policy = Policy.objects.filter(organisation__slug__startswith="bench-").order_by("pk").first()
    lists = RankingList.objects.count()
    try:
        with transaction.atomic():
            draft = create_draft(policy, by=None)
            started = time.perf_counter()
            published = publish(
                draft, by=None, change_kind="editorial", change_note="Målt i bench."
            )
            took = (time.perf_counter() - started) * 1000
            sections = published.sections.count()
            raise _RolledBack
    except _RolledBack:
        pass
    return lists, took, sections
