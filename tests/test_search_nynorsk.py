"""Search in nynorsk, on the real handbook with the demo's nynorsk version of Moskenes' guideline
(fixtures/demo/moskenes-sosiale-medier.nn.md): what the one `handbook_nb` configuration does with
nynorsk words, and what the national nynorsk ⇄ bokmål synonyms (fixtures/synonyms.toml) add."""

import re
from html import unescape

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache

from policies.management.commands.seed_demo import Command
from policies.models import Synonym
from policies.search import search

pytestmark = pytest.mark.django_db


@pytest.fixture
def moskenes_in_nynorsk(handbook):
    Command().nynorsk_demo()


def _found(query, other) -> bool:
    """Whether `query` finds a text of `other`: (organisation name or None for any, language)."""
    organisation, language = other
    return any(
        h.language == language and organisation in (None, h.organisation_name)
        for h in search(query, user=AnonymousUser()).hits
    )


NYNORSK = ("Moskenes kommune", "nn")


def _without_national_synonyms():
    Synonym.objects.filter(organisation=None).delete()
    # Whatever search keeps of a query's plan in the cache was made with them.
    cache.clear()


@pytest.mark.parametrize(
    "query",
    ["tilsette", "teieplikt", "føremålet", "medarbeidarar", "sakshandsaming", "heimesider",
     "sosiale medium", "lojalitetsplikta", "retningsliner"],
)  # fmt: skip
def test_a_nynorsk_word_finds_the_nynorsk_text(moskenes_in_nynorsk, query):
    hits = search(query, user=AnonymousUser()).hits
    nynorsk = [h for h in hits if (h.organisation_name, h.language) == NYNORSK]
    assert nynorsk, query
    assert all(h.is_translation and "?sprak=nn#" in h.url for h in nynorsk)


@pytest.mark.parametrize(
    ("query", "other"),
    [
        # The stemmer and the prefix alternative already let these forms meet.
        ("formålet", NYNORSK),  # føremål: the dictionary splits it into føre + mål
        ("lojalitetsplikt", NYNORSK),  # lojalitetsplikta
        ("retningsliner", ("Bodø kommune", "nb")),  # 'retningslin':* finds retningslinjene
    ],
)
def test_some_forms_meet_through_the_configuration_alone(moskenes_in_nynorsk, query, other):
    _without_national_synonyms()
    assert _found(query, other)


@pytest.mark.parametrize(
    ("query", "other"),
    [
        ("teieplikt", ("Moskenes kommune", "nb")),  # taushetsplikt
        ("taushetsplikt", NYNORSK),  # teieplikt
        ("medarbeidarar", ("Moskenes kommune", "nb")),  # medarbeidere
        ("sakshandsaming", ("Bergen kommune", "nb")),  # saksbehandling
        ("ytringsfridom", (None, "nb")),  # ytringsfrihet (the nynorsk text does not say it)
    ],
)
def test_the_national_synonyms_let_each_form_find_the_other(moskenes_in_nynorsk, query, other):
    assert _found(query, other)
    # Without them the stems differ, and the other form is not found.
    _without_national_synonyms()
    assert not _found(query, other)


# Where a hit leads.


def _ids(html: str) -> set[str]:
    return set(re.findall(r'\bid="([^"]+)"', html))


@pytest.mark.parametrize("query", ["rådmannen", "sosiale medier", "bedriftskulturdag"])
def test_every_hit_on_the_search_page_leads_to_its_own_section(client, moskenes_in_nynorsk, query):
    # A visitor reads Moskenes' pages in its målform, nynorsk: a hit in the bokmål original must
    # still lead to the original, where its heading is, and a hit in the text before the first
    # heading ("innledning") to the start of the text.
    html = client.get("/sok/", {"q": query}).content.decode()
    links = re.findall(r'<h3[^>]*><a class="ds-link" href="([^"]+)"', html)
    assert links, query
    for link in links:
        page = client.get(unescape(link))
        assert page.status_code == 200, link
        assert link.split("#")[1] in _ids(page.content.decode()), link
