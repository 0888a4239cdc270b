import pytest

from policies.diff import word_diff, words_of
from policies.models import Policy
from policies.rendering import render_html

pytestmark = pytest.mark.django_db


def test_a_changed_word_is_marked_deleted_and_inserted():
    diff = word_diff("<p>Vær saklig og høflig.</p>", "<p>Vær saklig og vennlig.</p>")
    assert (
        '<del class="diff-del"><span class="ds-sr-only">Fjernet: </span>høflig.</del>' in diff.html
    )
    assert (
        '<ins class="diff-ins"><span class="ds-sr-only">Lagt til: </span>vennlig.</ins>'
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
