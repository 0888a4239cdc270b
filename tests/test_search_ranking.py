"""The ranking across every kommune (policies.ranking): the same best sections, in the same
order, as ranking every match, from lists that publications keep current.

The reference is the definition itself: every visible section that matches, scored with
policies.search's score expression, ordered by (score desc, id), the first `limit`.
"""

import threading

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection, connections, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from people.models import Organisation
from policies import ranking
from policies import search as search_module
from policies.models import RankingEntry, RankingList, SearchTerm, Section, Visibility
from policies.search import FILLER_WORDS, SECTIONS, clean_query, plan, search
from policies.workflow import create_draft

from .factories import make_organisation, make_person, make_policy, publish_version

pytestmark = pytest.mark.django_db

ANONYMOUS = AnonymousUser()
PROPERTY_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def every_match_ranked(user, the_plan, limit, *, include_earlier=False):
    """The best `limit` policy sections by ranking every visible match (the definition)."""
    scope = search_module._scope(user, organisation=None, include_earlier=include_earlier)
    score, score_params = search_module._score_sql(SECTIONS, the_plan)
    source, source_params = scope.text_from(SECTIONS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {score}, t.id {source} AND t.search_vector @@ %s::tsquery "  # noqa: S608
            f"ORDER BY 1 DESC, 2 LIMIT {int(limit)}",
            [*score_params, *source_params, the_plan.literal or the_plan.any_group],
        )
        return [(round(s, 5), sid) for s, sid in cursor.fetchall()]


def threshold_ranked(user, the_plan, limit, *, include_earlier=False):
    scope = search_module._scope(user, organisation=None, include_earlier=include_earlier)
    with transaction.atomic():
        found = ranking.best(scope, the_plan, limit)
    return [(round(s, 5), sid) for s, _source, sid in found]


@pytest.fixture
def small_reads(monkeypatch):
    """Lists read a few entries at a time, and bounds made exact a few sections at a time: the
    real documents are few, and with the product's first read every list would be read to its
    end before the threshold is ever tried (and every section met made exact at once)."""
    monkeypatch.setattr(ranking, "FIRST_READ", 2)
    monkeypatch.setattr(ranking, "EXACT_FIRST", 2)


@pytest.fixture
def vocabulary(handbook, small_reads):
    """The words of the real documents, and an internal Bergen policy that uses many of them
    (the lists hold it; only Bergen's staff may see it ranked)."""
    words = sorted(
        w for w in SearchTerm.objects.values_list("word", flat=True) if w not in FILLER_WORDS
    )
    make_policy(
        Organisation.objects.get(slug="bergen"),
        title="Intern rutine for sosiale medier",
        body="## Intern\n\n" + " ".join(words[::5]) + "\n\n## Mer\n\n" + " ".join(words[2::9]),
        visibility=Visibility.INTERNAL,
    )
    return words


@st.composite
def questions(draw, words):
    word = st.sampled_from(words)
    kind = draw(st.sampled_from(["one", "two", "three", "phrase", "not", "or"]))
    a, b, c = draw(word), draw(word), draw(word)
    return {
        "one": a,
        "two": f"{a} {b}",
        "three": f"{a} {b} {c}",
        "phrase": f'"{a} {b}"',
        "not": f"{a} -{b}",
        "or": f"{a} OR {b}",
    }[kind]


def test_the_threshold_ranks_the_real_documents_as_ranking_every_match_does(vocabulary):
    bergen = Organisation.objects.get(slug="bergen")
    employee = make_person(bergen, username="bergenansatt")

    @PROPERTY_SETTINGS
    @given(
        query=questions(vocabulary),
        limit=st.integers(min_value=1, max_value=40),
        reader=st.sampled_from(["anonymous", "employee"]),
        include_earlier=st.booleans(),
    )
    def check(query, limit, reader, include_earlier):
        user = ANONYMOUS if reader == "anonymous" else employee
        the_plan = plan(clean_query(query), organisation_ids=[])
        if the_plan.is_empty:
            return
        try:
            found = threshold_ranked(user, the_plan, limit, include_earlier=include_earlier)
        except ranking.Unbounded:
            return
        assert found == every_match_ranked(user, the_plan, limit, include_earlier=include_earlier)

    check()


OUTDOOR = [
    "kajakk", "padling", "fjellsko", "tursti", "ryggsekk", "gapahuk",
    "bålpanne", "kompass", "telt", "sovepose", "primus", "turkart",
]  # fmt: skip
OUTDOOR_PARTS = ["fjell", "sko", "rygg", "sekk", "tur", "kart", "og", "med", "ute"]


@pytest.fixture
def outdoor(small_reads):
    """Policies whose sections repeat a dozen words at random, in titles, headings and text:
    many sections per word and close scores, so the threshold stops long before a list ends
    (the real documents are too few for that)."""
    import random

    draw = random.Random(13)
    organisations = [make_organisation(slug="turkommune"), make_organisation(slug="fjellkommune")]
    for n in range(8):
        sections = []
        for i in range(20):
            heading = " ".join(draw.sample(OUTDOOR, draw.randint(0, 2))) or "Generelt"
            # Compounds' parts on their own too: a question's split compounds then match
            # sections where the parts stand apart, between other terms' words.
            words = [draw.choice(OUTDOOR + OUTDOOR_PARTS) for _ in range(30)]
            sections.append(f"## {heading} {i}\n\n{' '.join(words)}.\n")
        make_policy(
            organisations[n % 2],
            title=" ".join(draw.sample(OUTDOOR, 2)).capitalize(),
            body="\n".join(sections),
            visibility=Visibility.INTERNAL if n % 4 == 3 else Visibility.PUBLIC,
        )
    return organisations


def test_the_threshold_stops_early_and_still_ranks_as_ranking_every_match_does(outdoor):
    employee = make_person(outdoor[1], username="fjellansatt")

    @PROPERTY_SETTINGS
    @given(
        query=questions(OUTDOOR + OUTDOOR_PARTS[:6]),
        limit=st.integers(min_value=1, max_value=15),
        reader=st.sampled_from(["anonymous", "employee"]),
    )
    def check(query, limit, reader):
        user = ANONYMOUS if reader == "anonymous" else employee
        the_plan = plan(clean_query(query), organisation_ids=[])
        if the_plan.is_empty:
            return
        try:
            found = threshold_ranked(user, the_plan, limit)
        except ranking.Unbounded:
            return
        assert found == every_match_ranked(user, the_plan, limit)

    check()
    # Stopping early is what is tested: a list read whole would prove nothing.
    stats = {}
    scope = search_module._scope(ANONYMOUS, organisation=None, include_earlier=False)
    kajakk = plan("kajakk", organisation_ids=[])
    with transaction.atomic():
        ranking.best(scope, kajakk, 3, stats=stats)
    size = RankingList.objects.get(query=ranking.Term(kajakk.groups[0]).key).size
    assert stats["scored"] < size / 4


def test_split_compounds_whose_parts_interleave_are_not_ranked_below_their_score(small_reads):
    # Two questions' compounds, split into parts the text has apart. In "privat elev person
    # kontakt" each term alone ranks 0.1, but the two together 0.4 (ts_rank_cd counts the
    # other term's words inside a cover as less noise): a list weight of each term's own rank
    # would put this section below one that scores less, and the threshold would skip it.
    org = make_organisation()
    interleaved = make_policy(org, title="Første", body="## Om\n\nprivat elev person kontakt\n")
    make_policy(org, title="Andre", body="## Om\n\nprivat person elev og kontakt\n")
    the_plan = plan("privatperson elevkontakt", organisation_ids=[])
    best = threshold_ranked(ANONYMOUS, the_plan, 1)
    assert best == every_match_ranked(ANONYMOUS, the_plan, 1)
    assert best[0][1] == interleaved.versions.get().sections.get().pk


@pytest.mark.parametrize(
    "query",
    [
        "sosiale medier",  # two terms and a phrase
        "kan jeg kritisere kommunen på facebook",  # a question: its best lack every term
        "privatperson",  # a compound: its parts are AND-ed
        "SoMe",  # a synonym with a phrase
        '"sosiale medier"',  # web search syntax: a phrase
        "facebook -twitter",  # and a NOT
        "ansatte kommunen",
    ],
)
@pytest.mark.parametrize("limit", [1, 3, 10, 201])
def test_questions_of_every_shape_are_ranked_as_ranking_every_match_does(vocabulary, query, limit):
    the_plan = plan(clean_query(query), organisation_ids=[])
    assert threshold_ranked(ANONYMOUS, the_plan, limit) == every_match_ranked(
        ANONYMOUS, the_plan, limit
    )


def test_a_search_across_every_kommune_shows_what_ranking_every_match_shows(handbook):
    # Through search(): the same hits in the same order as with the threshold left out.
    for query in ["sosiale medier", "kommunen", "facebook twitter instagram"]:
        with_lists = [(h.url, h.heading) for h in search(query, user=ANONYMOUS).hits]
        assert with_lists
        original = ranking.best
        try:
            ranking.best = _unbounded
            without = [(h.url, h.heading) for h in search(query, user=ANONYMOUS).hits]
        finally:
            ranking.best = original
        assert with_lists == without


def _unbounded(*args, **kwargs):
    raise ranking.Unbounded("left out in this test")


def test_a_publication_adds_its_sections_to_the_lists_already_built():
    first = make_organisation(slug="forstekommune")
    make_policy(first, body="## Om\n\nLysløypa er åpen.\n")
    assert search("lysløypa", user=ANONYMOUS).count == 1  # builds the list
    assert RankingList.objects.count() == 1
    second = make_organisation(slug="andrekommune")
    policy = make_policy(
        second, title="Lysløypa", body="## Lysløypa\n\nLysløypa, lysløypa og lysløypa.\n"
    )
    hits = search("lysløypa", user=ANONYMOUS).hits
    assert [h.organisation_name for h in hits][:1] == [second.name]
    assert len(hits) == 2
    # A new version of it too, and the list keeps the earlier one (for "tidligere versjoner").
    publish_version(policy, body="## Lysløypa\n\nLysløypa er stengt.\n", title="Lysløypa")
    assert search("lysløypa", user=ANONYMOUS).count == 2
    assert search("lysløypa", user=ANONYMOUS, include_earlier=True).count == 3
    assert RankingList.objects.get().size == 3


def test_sections_written_into_a_published_version_are_added_too():
    # As the national bench corpus is loaded: versions inserted as published, then sections.
    org = make_organisation()
    policy = make_policy(org, body="## Om\n\nTrollstien er bratt.\n")
    assert search("trollstien", user=ANONYMOUS).count == 1
    version = policy.versions.get()
    Section.objects.bulk_create(
        [
            Section(
                version=version, position=50 + n, anchor=f"ny-{n}", level=2,
                heading="Trollstien", text="Trollstien i tåke.", title=version.title,
            )
            for n in range(2)
        ]
    )  # fmt: skip
    assert search("trollstien", user=ANONYMOUS).count == 3


def test_a_draft_is_not_added_to_the_lists():
    org = make_organisation()
    make_policy(org, body="## Om\n\nSnøskuter er forbudt.\n")
    search("snøskuter", user=ANONYMOUS)
    create_draft(
        make_policy(org, body="## A\n\nAnnet.\n"), by=None, body="## Om\n\nSnøskuter i utkast.\n"
    )
    assert RankingEntry.objects.count() == 1


def test_an_internal_section_ranked_first_is_shown_only_to_its_own_kommune():
    inside = make_organisation(slug="innenfor")
    outside = make_organisation(slug="utenfor")
    make_policy(
        inside,
        title="Hemmelig brøytekart",
        body="## Brøytekart\n\nBrøytekart, brøytekart, brøytekart.\n",
        visibility=Visibility.INTERNAL,
    )
    for n in range(3):
        make_policy(outside, title=f"Vei {n}", body=f"## Vei {n}\n\nBrøytekart nummer {n}.\n")
    anonymous = search("brøytekart", user=ANONYMOUS)
    assert anonymous.count == 3
    assert all(h.organisation_name == outside.name for h in anonymous.hits)
    insider = search("brøytekart", user=make_person(inside, username="innenforansatt"))
    assert insider.count == 4
    assert insider.hits[0].organisation_name == inside.name


def test_lists_beyond_the_cap_are_dropped_with_their_entries(monkeypatch):
    org = make_organisation()
    make_policy(org, body="## Om\n\nKlatrevegg og skiskyting.\n")
    monkeypatch.setattr(ranking, "MAX_LISTS", 1)
    search("klatrevegg", user=ANONYMOUS)
    search("skiskyting", user=ANONYMOUS)
    (kept,) = RankingList.objects.all()
    assert "skiskyting" in kept.query
    assert set(RankingEntry.objects.values_list("ranking_list", flat=True)) == {kept.pk}
    # The deferred foreign key holds at commit.
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_a_question_the_lists_cannot_bound_in_time_is_ranked_in_full(monkeypatch):
    org = make_organisation()
    body = "".join(f"## Del {i}\n\nFotball og håndball, del {i}.\n\n" for i in range(30))
    make_policy(org, body=body)
    expected = [(h.url, h.heading) for h in search("fotball håndball", user=ANONYMOUS).hits]
    monkeypatch.setattr(ranking, "MAX_READ", 0)
    monkeypatch.setattr(ranking, "FIRST_READ", 1)
    with pytest.raises(ranking.Unbounded):
        threshold_ranked(ANONYMOUS, plan("fotball håndball", organisation_ids=[]), 5)
    assert [(h.url, h.heading) for h in search("fotball håndball", user=ANONYMOUS).hits] == expected


@pytest.mark.parametrize(
    ("tsquery", "query", "rank"),
    [
        ("'a' & !'b'", "'a'", "( 'a' & !( 'b' ) )"),
        ("'a':* | 'b' & 'c'", "( 'a':* | ( 'b' & 'c' ) )", "( 'a':* | ( 'b' & 'c' ) )"),
        ("'a' <-> 'b'", "( 'a' <-> 'b' )", "( 'a' <-> 'b' )"),
    ],
)
def test_a_term_lists_the_sections_with_its_positive_words(tsquery, query, rank):
    term = ranking.Term(tsquery)
    assert (term.query, term.rank) == (query, rank)


def test_a_split_compound_among_other_terms_is_weighed_by_its_leading_words():
    alone = ranking.Term("'ab':* | 'a':* & 'b':*")
    among = ranking.Term("'ab':* | 'a':* & 'b':*", alone=False)
    assert alone.rank == "( 'ab':* | ( 'a':* & 'b':* ) )"
    assert among.rank == "'ab':* | 'a':* | 'b':*"
    assert among.query == alone.query and among.key != alone.key
    # A term of single words is weighed by its own rank among others too.
    assert ranking.Term("'a' | 'b':*", alone=False).rank == "( 'a' | 'b':* )"


@pytest.mark.parametrize("tsquery", ["!'a'", "'a' <-> !'b'", "'a':B", "'a' | !'b'"])
def test_terms_the_bound_does_not_cover_are_left_to_the_full_ranking(tsquery):
    with pytest.raises(ranking.Unbounded):
        ranking.Term(tsquery)


@pytest.mark.django_db(transaction=True)
def test_two_first_searches_at_once_build_one_list():
    org = make_organisation()
    make_policy(org, body="## Om\n\nIsbading er sunt.\n")
    errors, counts = [], []
    start = threading.Barrier(2)

    def searching():
        try:
            start.wait()
            counts.append(search("isbading", user=ANONYMOUS).count)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=searching) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and counts == [1, 1]
    assert RankingList.objects.count() == 1
    assert RankingEntry.objects.count() == 1
