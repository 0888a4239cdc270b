"""Property tests over the real documents: whatever a reader types, every hit is explained.

Queries are drawn from the words of the real handbook and resources (fixtures/), sometimes
misspelt, sometimes wrapped in a question. Every hit must then contain a query word, a form of
it (the dictionary's normal form, or a word it is the beginning of), a synonym of it, a part of
it when it is a compound, or the corrected word when "Mente du …?" replaced it. And no hit is a
text the reader may not read.
"""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from people.models import Person
from policies.models import (
    ResourceSection,
    SearchTerm,
    Section,
    Status,
    Synonym,
    Visibility,
)
from policies.search import FILLER_WORDS, search, terms_of

from .factories import make_policy

pytestmark = pytest.mark.django_db

ANONYMOUS = AnonymousUser()
SECRET = "hemmeligsaus"
QUESTION_STARTS = ["", "kan jeg ", "hvordan ", "hva sier retningslinjene om ", "er det lov med "]
PROPERTY_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def words(handbook):
    """The words of the real documents, and an internal Bergen policy that uses them too."""
    from people.models import Organisation

    vocabulary = sorted(
        w for w in SearchTerm.objects.values_list("word", flat=True) if w not in FILLER_WORDS
    )
    make_policy(
        Organisation.objects.get(slug="bergen"),
        title="Intern rutine",
        body=f"## Intern\n\n{SECRET} {' '.join(vocabulary[::7])}\n",
        visibility=Visibility.INTERNAL,
    )
    return vocabulary


def misspell(word: str, how: int, where: int) -> str:
    if len(word) < 5 or how == 0:
        return word
    i = 1 + where % (len(word) - 2)
    if how == 1:
        return word[:i] + word[i + 1 :]  # a letter left out
    if how == 2:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]  # two letters swapped
    return word[:i] + word[i] + word[i:]  # a letter doubled


@st.composite
def queries(draw, vocabulary):
    chosen = draw(st.lists(st.sampled_from(vocabulary), min_size=1, max_size=3))
    typed = [
        misspell(w, draw(st.integers(0, 3)), draw(st.integers(0, 40))) for w in chosen
    ]  # fmt: skip
    return draw(st.sampled_from(QUESTION_STARTS)) + " ".join(typed)


def section_text(url: str) -> str:
    path, anchor = url.split("#")
    parts = path.strip("/").split("/")
    if parts[0] == "ressurser":
        s = ResourceSection.objects.get(resource__slug=parts[1], anchor=anchor)
    else:
        s = Section.objects.get(
            version__policy__organisation__slug=parts[0],
            version__policy__slug=parts[1],
            version__status=Status.PUBLISHED,
            anchor=anchor,
        )
    return f"{s.title} {s.heading} {s.text}"


def explaining_words(query: str, result) -> list[str]:
    """The query's words with their hyphen parts, synonyms, compound halves and corrections."""
    words = terms_of(query)
    if result.suggestion:
        words += terms_of(result.suggestion)
    words += [part for w in words for part in w.split("-")]
    for synonym in Synonym.objects.filter(word__in=words, organisation=None):
        words += synonym.word_list
    halves = []
    for w in words:
        for i in range(3, len(w) - 2):
            halves += [w[:i], w[i:], w[i + 1 :]]
    return [w for w in words + halves if len(w) >= 3 or w in terms_of(query)]


def explains(text: str, words: list[str]) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH doc AS (SELECT to_tsvector('handbook_nb', %(text)s) AS v)
            SELECT EXISTS (
              SELECT 1 FROM doc, unnest(%(words)s::text[]) AS w(word)
               WHERE strpos(lower(%(text)s), w.word) > 0
                  OR doc.v @@ plainto_tsquery('handbook_nb', w.word)
                  OR EXISTS (
                       SELECT 1
                         FROM unnest(tsvector_to_array(doc.v)) AS d(lexeme),
                              unnest(tsvector_to_array(to_tsvector('handbook_nb', w.word))) AS q(lexeme)
                        WHERE length(q.lexeme) >= 3 AND starts_with(d.lexeme, q.lexeme))
            )
            """,
            {"text": text, "words": words},
        )
        return cursor.fetchone()[0]


def assert_every_hit_is_explained(query: str, result) -> None:
    words = explaining_words(query, result)
    for hit in result.hits:
        assert explains(section_text(hit.url), words), (query, hit.url, words)


@PROPERTY_SETTINGS
@given(data=st.data())
def test_every_hit_for_words_of_the_handbook_is_explained_by_the_query(words, data):
    query = data.draw(queries(words))
    result = search(query, user=ANONYMOUS)
    assert_every_hit_is_explained(query, result)
    assert all(SECRET not in section_text(h.url) for h in result.hits)


@PROPERTY_SETTINGS
@given(data=st.data())
def test_an_employee_finds_only_what_they_may_read_and_every_hit_is_explained(words, data):
    query = data.draw(queries(words))
    employee = Person.objects.get(username="ansatt.moskenes")
    result = search(query, user=employee, organisation=None)
    assert_every_hit_is_explained(query, result)
    # Bergen's internal policy is not Moskenes' to read.
    assert all(not h.url.startswith("/bergen/retningslinje-") for h in result.hits)


@PROPERTY_SETTINGS
@given(query=st.text(max_size=300))
def test_any_text_gives_a_result_whose_hits_are_explained(handbook, query):
    result = search(query, user=ANONYMOUS)
    assert len(result.query) <= 200
    assert result.count == 0 or result.hits
    if not (result.query and any(c in result.query for c in '"-')) and result.hits:
        assert_every_hit_is_explained(result.query, result)


@PROPERTY_SETTINGS
@given(query=st.text(alphabet=st.sampled_from(list("abcæøå &|!():*'\"-<>\\%_ORAND ")), max_size=40))
def test_any_combination_of_operators_is_a_valid_search(handbook, query):
    result = search(query, user=ANONYMOUS)
    # A valid search: the count is the hits' (no page of hits without a count, none beyond it),
    # and every hit matches the words left once the operators are read as words or dropped.
    assert (result.count == 0) == (not result.hits)
    assert len(result.hits) <= result.count
    if not (result.query and any(c in result.query for c in '"-')) and result.hits:
        assert_every_hit_is_explained(result.query, result)
