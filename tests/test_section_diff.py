"""What changed, section by section: only changed sections, structure kept, work bounded, cached."""

import re

import pytest
from django.core.cache import cache

from policies import diff as diff_module
from policies.diff import blocks_of, section_diff
from policies.models import Policy
from policies.rendering import render_html

BODY = """Innledende tekst om retningslinjene.

## Formål

Retningslinjene gjelder alle ansatte.

## Regler

- Vær saklig
- Vær høflig
- Tenk før du publiserer

Et avsnitt som ikke endres.

Et annet avsnitt som ikke endres.

Et tredje avsnitt som ikke endres.

Siste avsnitt i reglene.

## Kontakt

Spør kommunikasjonsavdelingen.
"""


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()


def _diff(old: str, new: str):
    return section_diff(render_html(old), render_html(new))


def test_only_the_changed_section_is_shown():
    diff = _diff(BODY, BODY.replace("Vær høflig", "Vær vennlig"))
    assert [s.heading for s in diff.sections] == ["Regler"]
    assert diff.sections_total == 4
    assert "Retningslinjene gjelder alle ansatte" not in diff.sections[0].html
    assert "Spør kommunikasjonsavdelingen" not in diff.sections[0].html


def test_lists_stay_lists_and_only_a_little_context_is_kept():
    diff = _diff(BODY, BODY.replace("Vær høflig", "Vær vennlig"))
    html = diff.sections[0].html
    assert html.startswith("<ul><li>Vær saklig</li><li>Vær")
    assert "Tenk før du publiserer" in html
    # One unchanged block on each side of the change; the rest is a marked gap.
    assert "Et avsnitt som ikke endres" not in html
    assert "Uendret tekst er utelatt" in html


def test_counts_are_per_section():
    new = BODY.replace("Vær høflig", "Vær vennlig").replace(
        "Spør kommunikasjonsavdelingen.", "Spør kommunikasjonsavdelingen eller din leder."
    )
    diff = _diff(BODY, new)
    counts = {s.heading: (s.added, s.removed) for s in diff.sections}
    assert counts == {"Regler": (1, 1), "Kontakt": (4, 1)}
    assert (diff.added, diff.removed) == (5, 2)


def test_added_and_removed_sections_are_named_as_such():
    new = BODY.replace(
        "## Kontakt\n\nSpør kommunikasjonsavdelingen.\n", "## Ny del\n\nHelt ny tekst.\n"
    )
    kinds = {s.heading: s.kind for s in _diff(BODY, new).sections}
    assert kinds == {"Ny del": "added", "Kontakt": "removed"}


def test_a_renamed_heading_is_a_changed_section_with_the_heading_marked():
    diff = _diff(BODY, BODY.replace("## Kontakt", "## Kontakt oss"))
    (section,) = diff.sections
    assert section.kind == "changed"
    assert "Lagt til: </span>oss" in section.heading_html


def test_subsections_carry_the_headings_above_them():
    old = "## Del\n\n### Underdel\n\nTekst.\n"
    (section,) = _diff(old, old.replace("Tekst.", "Ny tekst.")).sections
    assert section.heading == "Underdel" and section.path == ("Del",)


def test_identical_texts_have_no_sections_and_markdown_syntax_is_no_change():
    assert _diff(BODY, BODY).unchanged
    assert _diff("Dette er **viktig**.", "Dette er *viktig*.").unchanged


def test_text_is_escaped():
    diff = _diff("## A\n\nTekst.\n", "## A\n\nTekst &lt;script&gt;alert(1)&lt;/script&gt;\n")
    assert "<script>" not in diff.sections[0].html
    assert "&lt;script&gt;" in diff.sections[0].html


def test_ordered_lists_keep_their_numbers_after_a_gap():
    old = "## A\n\n1. en\n2. to\n3. tre\n4. fire\n5. fem\n"
    diff = _diff(old, old.replace("5. fem", "5. femte"))
    assert '<ol start="4"><li>fire</li>' in diff.sections[0].html


def test_a_block_longer_than_the_cap_is_shown_whole_instead_of_word_by_word(monkeypatch):
    monkeypatch.setattr(diff_module, "BLOCK_WORD_CAP", 10)
    old = "## A\n\n" + " ".join(f"ord{i}" for i in range(20)) + "\n"
    (section,) = _diff(old, old.replace("ord5", "endret")).sections
    assert section.coarse
    assert section.removed == 20 and section.added == 20
    assert len(re.findall("<del", section.html)) == 1


def test_the_word_budget_bounds_the_whole_comparison(monkeypatch):
    monkeypatch.setattr(diff_module, "WORD_BUDGET", 60)
    old = "".join(
        f"## Del {n}\n\n" + " ".join(f"ord{i}" for i in range(10)) + "\n\n" for n in range(5)
    )
    diff = _diff(old, old.replace("ord5", "endret"))
    assert len(diff.sections) == 5
    # The first sections got a word diff; once the budget ran out, the rest are shown whole.
    assert [s.coarse for s in diff.sections] == [False, False, False, True, True]


def test_the_result_is_cached_per_pair_of_texts(monkeypatch):
    old, new = render_html(BODY), render_html(BODY.replace("Vær høflig", "Vær vennlig"))
    first = section_diff(old, new)
    calls = []
    monkeypatch.setattr(diff_module, "_compare_sections", lambda *a: calls.append(a))
    assert section_diff(old, new) == first
    assert calls == []
    section_diff(old, render_html(BODY))
    assert len(calls) == 1


def test_blocks_of_keeps_table_rows_and_images():
    blocks = blocks_of(
        render_html("| a | b |\n|---|---|\n| 1 | 2 |\n\n![Kart](https://x.no/k.png)\n")
    )
    assert [b.words for b in blocks] == [("a", "|", "b"), ("1", "|", "2"), ("[Bilde:", "Kart]")]


@pytest.mark.django_db
def test_moskenes_editorial_version_shows_the_corrected_typos_in_their_sections(handbook):
    policy = Policy.objects.get(organisation__slug="moskenes", slug="sosiale-medier")
    v1, v2 = policy.versions.get(number=1), policy.versions.get(number=2)
    diff = section_diff(v1.body_html, v2.body_html)
    html = "".join(s.html for s in diff.sections)
    assert "opptretr" in html and "opptrer" in html
    assert 0 < len(diff.sections) < diff.sections_total
    assert 0 < diff.added < 20
