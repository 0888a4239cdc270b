"""The handbook's fixtures are faithful to the source documents (fixtures/sources/)."""

import re
from pathlib import Path

import pytest

from policies.fixtures import FIXTURES_DIR, read_document
from policies.rendering import plain_text

pytestmark = pytest.mark.django_db
SOURCES = FIXTURES_DIR / "sources"


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.replace("\u00a0", " "))


def _page_text(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    article = html[html.index("<article") : html.index("</article>")]
    return plain_text(article)


def _assert_in_order(needles: list[str], haystack: str):
    """Each needle's words occur in the haystack, in order (punctuation and markup ignored)."""
    haystack = " ".join(_words(haystack))
    position = 0
    for needle in (" ".join(_words(n)) for n in needles):
        found = haystack.find(needle, position)
        assert found >= 0, f"missing or out of order: {needle!r}"
        position = found + len(needle)


def _bergen_structure() -> tuple[list[str], list[str]]:
    lines = [
        line.strip() for line in (SOURCES / "bergen-sosiale-medier.txt").read_text().splitlines()
    ]
    lines = [line for line in lines if line]
    # The title and the logo text are shown as the page title, not repeated in the body.
    body = lines[lines.index("KOMMUNE") + 1 :]
    items = [line[2:] for line in body if line.startswith("- ")]
    headings = [
        line
        for line in body
        if not line.startswith("- ") and len(line) < 60 and not line.endswith((".", ":"))
    ]
    return headings, items


def test_bergen_headings_and_list_items_appear_in_order(client, handbook):
    headings, items = _bergen_structure()
    assert headings == [
        "Hvorfor bruke sosiale medier",
        "Er sosiale medier riktig kanal?",
        "Slik bruker du sosiale medier",
        "Din rolle som privatperson",
    ]
    assert len(items) == 26
    text = _page_text(client, "/bergen/sosiale-medier/")
    _assert_in_order(headings, text)
    _assert_in_order(items, text)


def test_bergen_body_has_every_word_of_the_source_in_order(handbook):
    source = (SOURCES / "bergen-sosiale-medier.txt").read_text()
    source = source[source.index("KOMMUNE") + len("KOMMUNE") :]
    body = read_document(FIXTURES_DIR / "handbook/bergen/sosiale-medier/1.md").body
    assert _words(plain_text(body)) == _words(source)


def _moskenes_source_lines() -> list[str]:
    lines = (SOURCES / "moskenes-sosiale-medier.txt").read_text().splitlines()
    return [line for line in lines if line.strip() and not line.startswith("# ")]


def test_moskenes_headings_and_list_items_appear_in_order(client, handbook):
    lines = _moskenes_source_lines()
    headings = [re.sub(r"[#*•]", "", line).strip() for line in lines if line.startswith("#")]
    items = [
        re.sub(r"[*]", "", line.strip()[2:]).strip()
        for line in lines
        if line.strip().startswith("- ")
    ]
    assert len(headings) >= 10 and len(items) >= 15
    text = _page_text(client, "/moskenes/sosiale-medier/versjon/1/")
    _assert_in_order([plain_text(h) for h in headings], text)
    _assert_in_order([plain_text(i) for i in items], text)


def test_moskenes_version_1_has_exactly_the_adopted_wording(client, handbook):
    source_words = _words("\n".join(_moskenes_source_lines()))
    page_words = _words(_page_text(client, "/moskenes/sosiale-medier/versjon/1/"))
    assert page_words == source_words
    for typo in ("opptretr", "mediekanaalen", "mediekanaaler", "syning"):
        assert typo in page_words


def test_moskenes_version_2_differs_only_by_the_typo_corrections(client, handbook):
    v1 = _words(_page_text(client, "/moskenes/sosiale-medier/versjon/1/"))
    v2 = _words(_page_text(client, "/moskenes/sosiale-medier/"))
    assert len(v1) == len(v2)
    changes = {(a, b) for a, b in zip(v1, v2, strict=True) if a != b}
    assert changes == {
        ("opptretr", "opptrer"),
        ("mediekanaalen", "mediekanalen"),
        ("mediekanaaler", "mediekanaler"),
        ("syning", "synsing"),
    }


def test_bodo_record_is_honest_about_its_source(client, handbook):
    text = _page_text(client, "/bodo/sosiale-medier/")
    assert "Kilde" in text
    assert "folkevalgte" in text
    for basis in ("KS", "Bergen", "Tromsø", "Trondheim"):
        assert basis in text
    article = Path(SOURCES / "bodo-artikkel.txt").read_text()
    # Every quotation in the record is in the article, word for word.
    body = read_document(FIXTURES_DIR / "handbook/bodo/sosiale-medier/1.md").body
    quotes = [
        line.lstrip("> ").strip()
        for line in body.splitlines()
        if line.startswith(">") and not line.lstrip("> ").startswith(("—", "–"))
    ]
    assert quotes
    for quote in quotes:
        words = _words(quote)
        assert " ".join(words[:6]) in " ".join(_words(article)), quote
