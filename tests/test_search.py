import datetime
import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext

from people.models import Organisation, Person
from policies.models import Synonym, Visibility
from policies.search import PAGE_SIZE, clean_query, search, suggest, terms_of
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
    # The word is in the heading only; the snippet is the section's text.
    assert hit.snippet.startswith("Offentlig ansattes arbeidsforhold")


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
    assert hit.organisation_name == "Bergen kommune"
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
    # Background resources are national: they come with every kommune's results.
    assert {h.organisation_name for h in result.hits if not h.is_resource} == {"Moskenes kommune"}


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


def test_a_suggestion_asked_before_is_not_offered_once_its_policy_is_retired():
    # Suggestions are cached (policies.search._suggestion): retiring the only policy with the
    # word must take it out at once, though a stem-mate in another policy still finds hits.
    org = make_organisation()
    policy = make_policy(org, body="## Om\n\nKaffemaskinens plassering.\n")
    make_policy(org, title="Kjøkken", body="## Kjøkken\n\nEn kaffemaskin står der.\n")
    assert search("kaffemaskinenss", user=ANONYMOUS).suggestion == "kaffemaskinens"
    retire(policy, by=None)
    assert "kaffemaskinens" not in search("kaffemaskinenss", user=ANONYMOUS).suggestion.split()


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
    selects = [
        q["sql"] for q in queries if q["sql"].lstrip().startswith(("SELECT", "WITH", "(SELECT"))
    ]
    # The plan (terms, synonyms, splits, phrase), the term's ranking list (built, as it is the
    # first search for it), then one statement that ranks the policy texts and resources and
    # gives the page's hits with their headlines.
    headline_sql = [sql for sql in selects if "ts_headline" in sql]
    assert len(headline_sql) == 1
    assert "plainto_tsquery" in selects[0] and "ts_headline" in selects[-1]
    # Asked again, the plan comes from the cache and the list is there: find the list, read
    # it, score the best, rank and headline the page.
    with CaptureQueriesContext(connection) as queries:
        again = search("sporordet", user=ANONYMOUS, page=2)
    assert again.count == 60 and len(again.hits) == PAGE_SIZE
    assert not [q for q in queries if "plainto_tsquery" in q["sql"]]
    statements = [q["sql"] for q in queries if q["sql"].lstrip().startswith(("SELECT", "WITH"))]
    assert len(statements) == 4
    assert len([sql for sql in statements if "ts_headline" in sql]) == 1


@pytest.mark.parametrize(
    ("query", "shows_suggestion"),
    [
        # Nothing found: the suggestion's hits are shown.
        ("sporrordet", True),
        # Some hits with one of the words: the query's hits are shown, the suggestion offered.
        ("sporordet blåbærsyltetoy", False),
    ],
)
def test_a_misspelt_query_asked_again_is_ranked_with_its_suggestion_in_one_statement(
    query, shows_suggestion
):
    org = make_organisation()
    body = "".join(f"## Avsnitt {i}\n\nSporordet nummer {i}.\n\n" for i in range(25))
    make_policy(org, body=body + "## Syltetøy\n\nSporordet og blåbærsyltetøy.\n")
    first = search(query, user=ANONYMOUS, page=2)
    assert first.suggestion and first.showing_suggestion == shows_suggestion
    assert first.hits
    # Asked again, the suggestion comes from the cache with the plan, and the query and its
    # suggestion are ranked in one statement (across all kommuner after the counts that narrow
    # the candidates) that gives the same page.
    with CaptureQueriesContext(connection) as queries:
        again = search(query, user=ANONYMOUS, page=2)
    assert len([q for q in queries if "ts_headline" in q["sql"]]) == 1
    assert not [q for q in queries if "similarity(" in q["sql"]]
    assert again == first


def test_beyond_the_count_cap_every_hit_is_ranked_and_the_best_section_wins():
    # 250 sections mention the word once in a long text; the best one, stored last, is all about
    # it. Ranking a sample (the first 200 found) would never see it.
    org = make_organisation()
    filler = "Dette avsnittet handler om mye annet. " * 3 + "Vanligord nevnes bare i forbifarten."
    body = "".join(f"## Avsnitt {i}\n\n{filler}\n\n" for i in range(250))
    make_policy(org, body=body)
    make_policy(org, title="Annet", body="## Om\n\nVanligord, vanligord og vanligord.\n")
    result = search("vanligord", user=ANONYMOUS)
    assert result.count == 200 and result.count_capped
    assert result.hits[0].policy_title == "Annet"


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
    # The count is the hits': none when there are none, and then no page of hits either.
    assert (result.count == 0) == (not result.hits)
    assert len(result.query) <= 200
    assert "\x00" not in result.query


@pytest.mark.parametrize("query", NASTY_INPUTS)
def test_nasty_input_gives_a_normal_search_page(client, handbook, query):
    response = client.get("/sok/", {"q": query.replace("\ud800", "")})
    assert response.status_code == 200
    assert "Søk" in response.content.decode()


def test_terms_are_words_without_operators_filler_or_repeats():
    assert terms_of("taushets:* & !plikt") == ["taushets", "plikt"]
    assert terms_of("&|!():*'\"") == []
    assert terms_of("under_strek") == ["under", "strek"]
    assert terms_of("Er det lov å bruke Facebook facebook?") == [
        "er",
        "det",
        "å",
        "bruke",
        "facebook",
    ]
    assert terms_of("IT-sikkerhet og e-post") == ["it-sikkerhet", "og", "e-post"]


def test_a_query_of_filler_words_alone_searches_those_words(handbook):
    # Before: "regler" was dropped as filler and the page said "Ingen treff" for a word that
    # is in every kommune's guideline.
    assert terms_of("Regler") == ["regler"]
    assert search("regler", user=ANONYMOUS).count > 0
    assert search("retningslinjer", user=ANONYMOUS).count > 0


def test_an_excluded_word_stays_excluded(handbook):
    result = search("sosiale -taushetsplikt", user=ANONYMOUS, organisation=moskenes())
    assert result.count > 0
    assert all("taushetsplikt" not in h.heading.lower() for h in result.hits)


@pytest.mark.parametrize("query", ["facebook -twitter", 'facebook -"twitter konto"'])
def test_an_excluded_word_is_not_marked_in_the_snippets(handbook, query):
    # Bodø's sections on Facebook also name a "twitterkonto".
    result = search(query, user=ANONYMOUS)
    marked = {m.lower() for h in result.hits for m in re.findall(r"<mark>(.*?)</mark>", h.snippet)}
    assert "facebook" in marked
    assert not any(m.startswith(("twitter", "konto")) for m in marked), marked


def test_a_query_that_only_excludes_gets_snippets_without_marks(handbook):
    result = search("-facebook", user=ANONYMOUS)
    assert result.hits
    assert all("<mark>" not in h.snippet for h in result.hits)


def test_clean_query_strips_nul_and_caps_the_length():
    assert clean_query("a\x00b") == "a b"
    assert len(clean_query("x" * 10_000)) == 200
    assert clean_query(None) == ""


def test_a_logged_in_person_searches_in_their_own_organisation_by_default(client, handbook):
    client.force_login(Person.objects.get(username="ansatt.bergen"))
    html = client.get("/sok/", {"q": "sosiale medier"}).content.decode()
    assert "Bergen kommune" in html
    assert "Moskenes kommune</span>" not in html
    everywhere = client.get("/sok/", {"q": "sosiale medier", "kommune": "alle"}).content.decode()
    assert "/moskenes/sosiale-medier/?sprak=nb#" in everywhere


# Questions as employees type them.


def test_a_whole_question_finds_the_answer_although_some_of_its_words_are_not_in_the_text(
    handbook,
):
    result = search("kan jeg kritisere kommunen på facebook", user=ANONYMOUS)
    assert result.terms == ["kritisere", "kommunen", "facebook"]
    assert result.count > 0


def test_words_in_neighbouring_sections_still_find_both_sections():
    org = make_organisation()
    make_policy(org, body="## Første\n\nNaboordet alfa står her.\n\n## Andre\n\nNaboordet beta.\n")
    result = search("alfa beta", user=ANONYMOUS)
    assert {h.heading for h in result.hits} == {"Første", "Andre"}


def test_sections_with_all_words_rank_before_sections_with_some():
    org = make_organisation()
    body = (
        "## Bare ett\n\nRangord rangord rangord rangord.\n\n"
        "## Begge\n\nHer står rangord og også dekkord.\n"
    )
    make_policy(org, body=body)
    assert search("rangord dekkord", user=ANONYMOUS).hits[0].heading == "Begge"


def test_a_phrase_match_ranks_before_the_same_words_apart():
    org = make_organisation()
    body = (
        "## Spredt\n\nFrasetest kommer først, og mye senere i teksten kommer ordet ordning.\n\n"
        "## Samlet\n\nHer står ordning frasetest sammen.\n"
    )
    make_policy(org, body=body)
    assert search("ordning frasetest", user=ANONYMOUS).hits[0].heading == "Samlet"


# Norwegian compounds.


def test_a_compound_finds_its_parts_written_apart(handbook):
    # "Ta stilling til om det er etisk forsvarlig å ha kontakt med personer som er elever" (Bergen)
    result = search("elevkontakt", user=ANONYMOUS)
    assert any(h.url.endswith("#din-rolle-som-privatperson") for h in result.hits)


def test_a_compound_the_dictionary_does_not_know_is_split_into_words_of_the_vocabulary():
    org = make_organisation()
    make_policy(org, body="## Grupper\n\nEn lukket gruppe på Facebook er ikke privat.\n")
    hit = first_hit("facebookgruppe")
    assert hit.heading == "Grupper"


def test_a_hyphenated_compound_finds_the_words_written_apart():
    org = make_organisation()
    make_policy(org, body="## Grupper\n\nEn lukket gruppe på Facebook er ikke privat.\n")
    assert first_hit("facebook-gruppe").heading == "Grupper"
    assert first_hit("Facebook-gruppen").heading == "Grupper"


def test_inflected_forms_find_each_other_through_the_dictionary():
    # The Snowball stemmer alone did not match "kommentar" with "kommentarer".
    org = make_organisation()
    make_policy(org, body="## Svar\n\nAlle kommentarer besvares.\n")
    assert first_hit("kommentar").heading == "Svar"


# Synonyms.


def test_a_national_synonym_finds_what_the_guidelines_call_otherwise(handbook):
    result = search("SoMe", user=ANONYMOUS)
    assert result.count > 0
    assert "<mark>sosiale</mark>" in result.hits[0].snippet.lower()


def test_an_organisations_synonyms_apply_to_its_own_people_only():
    org, other = make_organisation(), make_organisation()
    make_policy(org, body="## Nett\n\nPassord og tofaktor beskytter kontoen.\n")
    Synonym.objects.create(organisation=org, word="innlogging", words="tofaktor")
    insider, outsider = make_person(org), make_person(other)
    assert search("innlogging", user=insider).count == 1
    assert search("innlogging", user=outsider).count == 0
    assert search("innlogging", user=ANONYMOUS).count == 0


def test_a_hyphenated_word_gets_the_synonyms_of_its_parts(handbook):
    result = search("SoMe-strategi", user=ANONYMOUS)
    assert any(
        h.url == "/bergen/sosiale-medier/#slik-bruker-du-sosiale-medier" for h in result.hits[:3]
    )


def test_mente_du_also_suggests_a_synonym():
    org = make_organisation()
    make_policy(org, body="## Kanaler\n\nVi bruker sosiale medier.\n")
    Synonym.objects.create(organisation=None, word="snapchat", words="sosiale medier")
    result = search("snapchatt", user=ANONYMOUS)
    assert result.suggestion == "snapchat"
    assert result.showing_suggestion and result.count == 1


# Resources.


def test_background_resources_are_found_beside_policies_and_marked(handbook):
    result = search("ytringsfrihet lojalitetsplikt", user=ANONYMOUS)
    resources = [h for h in result.hits if h.is_resource]
    policies = [h for h in result.hits if not h.is_resource]
    assert resources and policies
    assert all(h.url.startswith("/ressurser/") for h in resources)


def test_a_resource_hit_on_the_search_page_is_marked_as_background_reading(client, handbook):
    html = client.get("/sok/", {"q": "bedriftskulturdag"}).content.decode()
    assert "/ressurser/porsgrunn-tankerekke/#porsgrunn-kommunes-bedriftskulturdag" in html
    assert "Bakgrunnsstoff" in html


# Own kommune first.


def _drones_only_in_another_kommune(client) -> None:
    """Signs `client` in to a kommune whose policy is about something else; another kommune's
    policy is about drones."""
    own, other = make_organisation(name="Egen kommune"), make_organisation(name="Annen kommune")
    make_policy(own, body="## Om\n\nNoe helt annet.\n")
    make_policy(other, body="## Droner\n\nDroneflyging over skoler krever tillatelse.\n")
    client.force_login(make_person(own))


def test_with_nothing_in_the_own_kommune_the_others_hits_are_shown_under_their_own_heading(client):
    _drones_only_in_another_kommune(client)
    html = client.get("/sok/", {"q": "droneflyging"}).content.decode()
    assert "Treff i andre kommuner" in html
    assert "Annen kommune" in html and "Droner" in html


def test_the_other_kommuners_hits_for_a_corrected_spelling_say_which_word_they_are_for(client):
    # The hits under "Treff i andre kommuner" were the suggestion's, without a word saying so.
    _drones_only_in_another_kommune(client)
    html = client.get("/sok/", {"q": "droneflyginng"}).content.decode()
    assert "Treff i andre kommuner" in html and "Droner" in html
    assert "Ingen treff for «droneflyginng». Viser treff for «droneflyging»." in html


def test_with_hits_in_the_own_kommune_the_others_are_not_shown(client):
    own, other = make_organisation(name="Egen kommune"), make_organisation(name="Annen kommune")
    make_policy(own, body="## Droner\n\nDroneflyging er forbudt.\n")
    make_policy(other, body="## Droner\n\nDroneflyging krever tillatelse.\n")
    client.force_login(make_person(own))
    html = client.get("/sok/", {"q": "droneflyging"}).content.decode()
    assert "Treff i andre kommuner" not in html and "Annen kommune</span>" not in html


# "Mente du …?" suggests only what the reader may read now.


def test_mente_du_never_suggests_a_word_only_in_another_kommunes_internal_policy(client):
    # Before: the vocabulary held every section's words, and a stem-mate in a public text was
    # enough for "Viser treff for «kaffemaskinens»" to show an anonymous reader the internal word.
    org, other = make_organisation(), make_organisation()
    make_policy(
        other, body="## Intern\n\nKaffemaskinens plassering er hemmelig.\n",
        visibility=Visibility.INTERNAL,
    )  # fmt: skip
    make_policy(org, body="## Kjøkken\n\nEn kaffemaskin står på kjøkkenet.\n")
    result = search("kaffemaskinenss", user=ANONYMOUS)
    assert "kaffemaskinens" not in result.suggestion.split()
    html = client.get("/sok/", {"q": "kaffemaskinenss"}).content.decode()
    assert "kaffemaskinens»" not in html and "kaffemaskinens<" not in html


def test_mente_du_never_suggests_a_word_only_in_a_version_scheduled_for_tomorrow(client):
    org = make_organisation()
    policy = make_policy(org, body="## Om\n\nFremtidsplan for kommunen.\n")
    publish_version(
        policy,
        body="## Om\n\nFremtidsplanene for kommunen endres.\n",
        effective_from=datetime.date.today() + datetime.timedelta(days=1),
    )
    result = search("fremtidsplanenee", user=ANONYMOUS)
    assert "fremtidsplanene" not in result.suggestion.split()
    html = client.get("/sok/", {"q": "fremtidsplanenee"}).content.decode()
    assert "fremtidsplanene»" not in html


def test_mente_du_suggests_a_word_the_reader_may_read(handbook):
    assert suggest("privatpersn") == "privatperson"


def test_narrowing_to_sections_with_most_terms_keeps_the_ranking_exact(monkeypatch):
    # With more than COUNT_CAP sections having both words, those with one word cannot be among
    # the first COUNT_CAP, however often they repeat it: only the first are ranked.
    monkeypatch.setattr("policies.search.COUNT_CAP", 5)
    org = make_organisation()
    body = "".join(f"## Begge {i}\n\nTierord og nivåord.\n\n" for i in range(8))
    body += "## Ett\n\n" + "Tierord. " * 30 + "\n"
    make_policy(org, body=body)
    tiered = search("tierord nivåord", user=ANONYMOUS)
    assert tiered.count == 5 and tiered.count_capped
    assert all(h.heading.startswith("Begge") for h in tiered.hits)
    everything = search("tierord nivåord", user=ANONYMOUS, organisation=org)
    assert [h.url for h in tiered.hits] == [h.url for h in everything.hits]


def test_a_word_only_in_an_internal_text_is_treated_like_an_unknown_word():
    # Otherwise the absence of "Mente du …?" would tell that the word exists somewhere.
    org, other = make_organisation(), make_organisation()
    make_policy(
        other, body="## Intern\n\nLønnsoppgjøret er hemmelig.\n", visibility=Visibility.INTERNAL
    )
    make_policy(org, body="## Om\n\nLønnsoppgjør forhandles hvert år.\n")
    assert suggest("lønnsoppgjøret") == "lønnsoppgjør"
