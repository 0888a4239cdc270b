import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from people.models import Organisation, Person
from policies.models import Policy, Visibility
from policies.search import PAGE_SIZE, clean_query, prefix_tsquery, search, suggest
from policies.workflow import retire

from .factories import make_organisation, make_person, make_policy, publish_version

pytestmark = pytest.mark.django_db

ANONYMOUS = AnonymousUser()


def first_hit(query, **kwargs):
    result = search(query, user=kwargs.pop("user", ANONYMOUS), **kwargs)
    assert result.hits, query
    return result.hits[0]


# Relevance on the real handbook.


def test_taushetsplikt_finds_moskenes_section_on_loyalty_and_confidentiality_first(handbook):
    hit = first_hit("taushetsplikt")
    assert hit.organisation_name == "Moskenes kommune"
    assert "taushetsplikt" in hit.heading.lower()
    assert hit.url.startswith("/moskenes/sosiale-medier/#")


def test_privatperson_finds_bergens_din_rolle_som_privatperson(handbook):
    hit = first_hit("privatperson")
    assert hit.organisation_name == "Bergen kommune"
    assert hit.heading == "Din rolle som privatperson"
    assert hit.url == "/bergen/sosiale-medier/#din-rolle-som-privatperson"


def test_folkevalgte_finds_bodo(handbook):
    hit = first_hit("folkevalgte")
    assert hit.organisation_name == "Bodø kommune"


@pytest.mark.parametrize("query", ["krisekommunikasjon", "kriser", "krise"])
def test_crisis_queries_find_the_part_about_crises(handbook, query):
    result = search(query, user=ANONYMOUS)
    assert result.count >= 1
    assert any("krisekommunikasjon" in hit.snippet for hit in result.hits), query


def test_a_partial_word_finds_the_whole_word(handbook):
    result = search("taushetspl", user=ANONYMOUS)
    assert any("taushetsplikt" in h.heading.lower() for h in result.hits)


def test_a_misspelt_word_gets_a_suggestion_and_its_results(handbook):
    result = search("taushetsplikk", user=ANONYMOUS)
    assert result.suggestion == "taushetsplikt"
    assert result.showing_suggestion
    assert result.hits[0].organisation_name == "Moskenes kommune"


def test_a_correctly_spelt_word_gets_no_suggestion(handbook):
    assert suggest("privatperson") == ""
    assert search("privatperson", user=ANONYMOUS).suggestion == ""


def test_hits_show_policy_organisation_heading_and_a_marked_snippet(handbook):
    hit = first_hit("privatperson")
    assert hit.policy_title == "Retningslinjer for sosiale medier"
    assert "<mark>privatperson</mark>" in hit.snippet.lower()
    assert hit.is_current


def test_only_current_versions_unless_earlier_ones_are_asked_for(handbook):
    current = search("taushetsplikt", user=ANONYMOUS, organisation=moskenes())
    assert {h.version_number for h in current.hits} == {2}
    both = search("taushetsplikt", user=ANONYMOUS, organisation=moskenes(), include_earlier=True)
    assert {h.version_number for h in both.hits} == {1, 2}
    earlier = next(h for h in both.hits if h.version_number == 1)
    assert earlier.url.startswith("/moskenes/sosiale-medier/versjon/1/#")


def test_the_organisation_filter_keeps_to_one_organisation(handbook):
    result = search("sosiale medier", user=ANONYMOUS, organisation=moskenes())
    assert result.count > 0
    assert {h.organisation_name for h in result.hits} == {"Moskenes kommune"}


def moskenes():
    return Organisation.objects.get(slug="moskenes")


# Scope: what the reader may read.


def test_internal_policies_are_found_only_by_their_own_organisation():
    org, other = make_organisation(), make_organisation()
    make_policy(
        org, body="## Intern\n\nHemmeligsaus om kaffemaskinen.\n", visibility=Visibility.INTERNAL
    )
    insider, outsider = make_person(org), make_person(other)
    assert search("kaffemaskinen", user=insider).count == 1
    assert search("kaffemaskinen", user=outsider).count == 0
    assert search("kaffemaskinen", user=ANONYMOUS).count == 0


def test_a_suggestion_never_reveals_words_of_policies_the_reader_cannot_read():
    org = make_organisation()
    make_policy(
        org, body="## Intern\n\nOmorganiseringsplanen er klar.\n", visibility=Visibility.INTERNAL
    )
    result = search("omorganiseringsplanenn", user=ANONYMOUS)
    assert result.suggestion == ""
    assert result.count == 0


def test_retired_policies_are_not_found():
    org = make_organisation()
    policy = make_policy(org, body="## Om\n\nSjeldneordet forekommer her.\n")
    assert search("sjeldneordet", user=ANONYMOUS).count == 1
    retire(policy, by=None)
    assert search("sjeldneordet", user=ANONYMOUS).count == 0


def test_a_new_version_replaces_the_old_one_in_results():
    org = make_organisation()
    policy = make_policy(org, body="## Om\n\nGammelordet står her.\n")
    publish_version(policy, body="## Om\n\nNyordet står her.\n")
    assert search("gammelordet", user=ANONYMOUS).count == 0
    assert search("nyordet", user=ANONYMOUS).count == 1
    assert search("gammelordet", user=ANONYMOUS, include_earlier=True).count == 1


def test_results_are_paged_and_counted():
    org = make_organisation()
    body = "".join(f"## Avsnitt {i}\n\nSidetestord nummer {i}.\n\n" for i in range(PAGE_SIZE + 5))
    make_policy(org, body=body)
    first = search("sidetestord", user=ANONYMOUS)
    assert first.count == PAGE_SIZE + 5
    assert first.num_pages == 2 and len(first.hits) == PAGE_SIZE
    second = search("sidetestord", user=ANONYMOUS, page="2")
    assert len(second.hits) == 5
    assert search("sidetestord", user=ANONYMOUS, page="999").page == 2
    assert search("sidetestord", user=ANONYMOUS, page="abc").page == 1


def test_headlines_are_computed_only_for_the_page_in_a_fixed_number_of_queries():
    org = make_organisation()
    body = "".join(f"## Avsnitt {i}\n\nSporordet nummer {i}.\n\n" for i in range(60))
    make_policy(org, body=body)
    with CaptureQueriesContext(connection) as queries:
        search("sporordet", user=ANONYMOUS)
    selects = [q["sql"] for q in queries if q["sql"].startswith("SELECT")]
    assert len(selects) == 3  # the hits (and so the count), a ranked page, headlines for it
    headline_sql = [sql for sql in selects if "ts_headline" in sql]
    assert len(headline_sql) == 1 and "IN (" in headline_sql[0]


def test_beyond_the_count_cap_the_count_says_more_and_heading_hits_still_rank_first(monkeypatch):
    monkeypatch.setattr("policies.search.COUNT_CAP", 10)
    monkeypatch.setattr("policies.search.RANK_SAMPLE", 5)
    org = make_organisation()
    body = "".join(f"## Avsnitt {i}\n\nVanligord nummer {i}.\n\n" for i in range(30))
    body += "## Vanligord\n\nOverskriften har ordet.\n"
    make_policy(org, body=body)
    result = search("vanligord", user=ANONYMOUS)
    assert result.count == 10 and result.count_capped
    assert result.hits[0].heading == "Vanligord"


def test_a_snippet_carries_no_markup_from_the_text_except_mark():
    org = make_organisation()
    make_policy(
        org,
        body="## Om\n\nFarligord &lt;script&gt;alert(1)&lt;/script&gt; og <b>fet</b> tekst.\n",
    )
    hit = first_hit("farligord")
    assert "<script" not in hit.snippet and "<b>" not in hit.snippet
    assert "<mark>" in hit.snippet


# Any input is safe.

NASTY_INPUTS = [
    "",
    "   ",
    "og i på",  # only stopwords
    '"',
    '"sosiale medier',
    '""',
    "-",
    "--",
    "-sosiale",
    "OR",
    "sosiale OR",
    "OR OR OR",
    ":*",
    "sosiale:*",
    "&|!()",
    "a & b | !c",
    "((((",
    "'",
    "\\",
    "'; DROP TABLE policies_section; --",
    "%",
    "_",
    "x" * 10_000,
    "sosiale " * 2_000,
    "😀",
    "sosiale 😀 medier",
    "שלום עולם",
    "مرحبا بالعالم",
    "\u202esosiale\u202c",
    "sos\x00iale",
    "\x00",
    "\x00\x00\x00",
    "\ud800",
    "²³",
    "٣",
    "<script>alert(1)</script>",
    "sosiale\tmedier\n",
]


@pytest.mark.parametrize("query", NASTY_INPUTS)
def test_nasty_input_gives_a_normal_result(handbook, query):
    result = search(query, user=ANONYMOUS)
    assert result.count >= 0
    assert len(result.query) <= 200
    assert "\x00" not in result.query


@pytest.mark.parametrize("query", NASTY_INPUTS)
def test_nasty_input_gives_a_normal_search_page(client, handbook, query):
    response = client.get("/sok/", {"q": query.replace("\ud800", "")})
    assert response.status_code == 200
    assert "Søk" in response.content.decode()


def test_the_prefix_query_is_built_from_word_characters_only():
    assert prefix_tsquery("taushets:* & !plikt") == "'taushets':* & 'plikt':*"
    assert prefix_tsquery("&|!():*'\"") == ""
    assert prefix_tsquery("under_strek") == "'under':* & 'strek':*"


def test_short_terms_are_matched_whole_and_websearch_syntax_gets_no_prefix_query():
    assert prefix_tsquery("it's learning") == "'it' & 's' & 'learning':*"
    assert prefix_tsquery("lojalitet -taushetsplikt") == ""
    assert prefix_tsquery('"sosiale medier"') == ""
    assert prefix_tsquery("facebook or twitter") == ""
    assert prefix_tsquery("e-post") == "'e' & 'post':*"


def test_an_excluded_word_stays_excluded(handbook):
    result = search("sosiale -taushetsplikt", user=ANONYMOUS, organisation=moskenes())
    assert result.count > 0
    assert all("taushetsplikt" not in h.heading.lower() for h in result.hits)


def test_clean_query_strips_nul_and_caps_the_length():
    assert clean_query("a\x00b") == "a b"
    assert len(clean_query("x" * 10_000)) == 200
    assert clean_query(None) == ""


def _assert_a_sane_result(result) -> None:
    """What must hold for any query: a page of hits that are all public and well formed."""
    assert len(result.hits) <= PAGE_SIZE
    assert result.count >= len(result.hits)
    assert (result.count == 0) == (not result.hits)
    public = {p.get_absolute_url() for p in Policy.objects.filter(visibility=Visibility.PUBLIC)}
    for hit in result.hits:
        assert hit.url.split("versjon/")[0].split("#")[0] in public, hit.url
        assert "<" not in str(hit.snippet).replace("<mark>", "").replace("</mark>", "")


# The handbook is loaded once per test (not per example): hypothesis searches a real database.
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=st.text(max_size=300))
def test_any_text_is_a_valid_search(handbook, query):
    _assert_a_sane_result(search(query, user=ANONYMOUS))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=st.text(alphabet=st.sampled_from(list("abcæøå &|!():*'\"-<>\\%_ORAND ")), max_size=40))
def test_any_combination_of_operators_is_a_valid_search(handbook, query):
    _assert_a_sane_result(search(query, user=ANONYMOUS))


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    before=st.text(alphabet=" ,.;:?", max_size=8),
    after=st.text(alphabet=" ,.;:?", max_size=8),
)
def test_punctuation_around_a_word_never_loses_its_hits(handbook, before, after):
    result = search(f"{before}taushetsplikt{after}", user=ANONYMOUS)
    _assert_a_sane_result(result)
    assert result.hits and result.hits[0].organisation_name == "Moskenes kommune"


def test_a_logged_in_person_searches_in_their_own_organisation_by_default(client, handbook):
    client.force_login(Person.objects.get(username="ansatt.bergen"))
    html = client.get("/sok/", {"q": "sosiale medier"}).content.decode()
    assert "Bergen kommune" in html
    assert "Moskenes kommune</span>" not in html
    everywhere = client.get("/sok/", {"q": "sosiale medier", "kommune": "alle"}).content.decode()
    assert "/moskenes/sosiale-medier/#" in everywhere
