import pytest

from policies.diff import word_diff, words_of
from policies.models import Policy
from policies.rendering import render_html

pytestmark = pytest.mark.django_db


def test_a_changed_word_is_marked_deleted_and_inserted():
    diff = word_diff("<p>Vær saklig og høflig.</p>", "<p>Vær saklig og vennlig.</p>")
    assert (
        '<del class="diff-del"><span class="ds-sr-only" lang="nb">Fjernet: </span>høflig.</del>'
        in diff.html
    )
    assert (
        '<ins class="diff-ins"><span class="ds-sr-only" lang="nb">Lagt til: </span>vennlig.</ins>'
        in diff.html
    )
    assert diff.added == 1 and diff.removed == 1


def test_identical_texts_have_no_changes():
    diff = word_diff("<p>Lik tekst.</p>", "<p>Lik tekst.</p>")
    assert diff.unchanged
    assert "<ins" not in diff.html and "<del" not in diff.html


def test_paragraphs_are_kept_apart():
    diff = word_diff("<h2>Tittel</h2><p>En.</p>", "<h2>Tittel</h2><p>En.</p><p>To.</p>")
    assert diff.html.startswith("<p>Tittel</p><p>En.</p>")
    assert diff.added == 1


def test_markup_in_the_text_is_escaped():
    diff = word_diff("<p>a</p>", "<p>a &lt;script&gt;alert(1)&lt;/script&gt;</p>")
    assert "<script>" not in diff.html
    assert "&lt;script&gt;" in diff.html


def test_markdown_syntax_never_shows_up_as_a_change():
    old = render_html("Dette er **viktig**.")
    new = render_html("Dette er *viktig*.")
    assert word_diff(old, new).unchanged
    assert words_of(old) == ["Dette", "er", "viktig."]


def test_moskenes_editorial_version_shows_the_corrected_typos(handbook):
    policy = Policy.objects.get(organisation__slug="moskenes", slug="sosiale-medier")
    v1, v2 = policy.versions.get(number=1), policy.versions.get(number=2)
    diff = word_diff(v1.body_html, v2.body_html)
    assert "opptretr" in diff.html and "opptrer" in diff.html
    assert 0 < diff.added < 20


def test_comparing_two_long_texts_that_share_little_stays_within_the_word_pair_budget(
    monkeypatch,
):
    # Word-level matching is quadratic; a 110 kB text against its paragraphs reshuffled once took
    # the compare page half a minute. Count the word pairs handed to difflib instead of timing it.
    import difflib
    import random

    from policies import diff
    from policies.fixtures import FIXTURES_DIR, read_document
    from policies.rendering import render_html

    text = "\n\n".join(
        read_document(p).body for p in sorted(FIXTURES_DIR.glob("handbook/*/*/*.md"))
    )
    text = "\n\n".join([text] * 4)
    paragraphs = text.split("\n\n")
    random.Random(1).shuffle(paragraphs)
    old, new = render_html(text), render_html("\n\n".join(paragraphs))

    pairs = []
    original = difflib.SequenceMatcher

    class Counting(original):
        def __init__(self, isjunk=None, a="", b="", autojunk=True):
            if a and isinstance(a[0], str):
                pairs.append(len(a) * len(b))
            super().__init__(isjunk, a, b, autojunk)

    monkeypatch.setattr(difflib, "SequenceMatcher", Counting)
    result = diff.word_diff(old, new)
    assert sum(pairs) <= diff.MAX_WORD_PAIRS
    assert result.added > 0 and result.removed > 0


def test_every_paragraph_edited_a_little_is_still_shown_word_by_word():
    from policies.rendering import render_html

    old = render_html("\n\n".join(f"Avsnitt {i} handler om sosiale medier." for i in range(300)))
    new = render_html("\n\n".join(f"Avsnitt {i} handler om nettvett." for i in range(300)))
    result = word_diff(old, new)
    assert result.added == 300 * 1 and result.removed == 300 * 2
