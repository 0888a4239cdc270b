"""Rendering has a budget (issue 14, items 1 and 2): no text of an editor's can crash the renderer or
hold a worker for long, and a text over the budget is refused with a Norwegian message.

The figures (before and after, at 1x, 2x and 4x) are printed by bench/rendering.py.
"""

import pytest
from django.utils import translation

from policies.models import PolicyVersion, Status
from policies.rendering import MAX_MARKUP_CHARACTERS, budget_problems, render, render_html
from policies.workflow import WorkflowError, create_draft, publish, save_draft

from .test_views_editorial import BERGEN, _publish_data, as_user, bergen_policy, person

# Texts of a few kilobytes that made Python-Markdown raise RecursionError.
CRASHING = {
    "definition list": "a\n: b\n" * 500,
    "nested list markers": "- " * 1000 + "x",
    "nested quotes": ">" * 5000 + " x",
    "nested emphasis": "*" * 3000 + "x" + "*" * 3000,
}
# Texts that took Python-Markdown from seconds to minutes (quadratic); over the budget now.
OVER_BUDGET = {
    "brackets": "[" * 8000 + "]" * 8000,
    "headings": "# a\n" * 6000,
    "setext headings": "a\n=\n" * 3000,
    "thematic breaks": "***\n" * 8000,
    "abbreviations": "".join(f"*[A{i}]: x\n" for i in range(6000)),
}


@pytest.mark.parametrize("source", CRASHING.values(), ids=CRASHING.keys())
def test_deeply_nested_text_renders_or_is_refused_without_crashing(source):
    rendered = render(source, title="T")
    assert rendered.html
    assert all("Grensen er" in problem for problem in rendered.problems)


@pytest.mark.parametrize(
    "source",
    [
        "- " * 11 + "x",
        "> " * 11 + "x",
        "".join("  " * i + "- nivå\n" for i in range(12)),
        "<blockquote>" * 1001,
    ],
)
def test_nesting_beyond_the_limit_is_refused_rather_than_cut(source):
    problems = budget_problems(source)
    assert problems and ("nivåer" in problems[0] or "HTML-koder" in problems[0])


def test_nesting_at_the_limit_keeps_every_word():
    source = "".join("  " * i + f"- nivå{i}\n" for i in range(10)) + "> " * 10 + "sitat\n"
    assert budget_problems(source) == []
    html = render_html(source)
    assert all(f"nivå{i}" in html for i in range(10)) and "sitat" in html


@pytest.mark.parametrize("source", OVER_BUDGET.values(), ids=OVER_BUDGET.keys())
def test_text_over_the_budget_is_refused_with_a_norwegian_reason(source):
    problems = budget_problems(source)
    assert problems and all("Grensen er" in p for p in problems)
    html = render_html(source)
    assert "Teksten kan ikke vises" in html


def test_the_reason_a_text_cannot_be_shown_is_in_the_language_of_whoever_looks():
    # The same text, asked for in nynorsk after bokmål: the notice is not remembered in bokmål.
    source = next(iter(OVER_BUDGET.values()))
    assert "Teksten kan ikke vises" in render_html(source)
    with translation.override("nn"):
        html = render_html(source)
    assert "Teksten kan ikkje visast" in html and "Grensa er" in html
    assert "Teksten kan ikke vises" in render_html(source)


def test_a_long_realistic_guideline_is_within_the_budget():
    from policies.fixtures import FIXTURES_DIR, read_document

    bodies = [read_document(p).body for p in sorted(FIXTURES_DIR.glob("handbook/*/*/*.md"))]
    text = "\n\n".join(bodies * 5)  # about 150 kB, as long as any real guideline
    assert len(text) > 140_000
    assert budget_problems(text) == []
    assert len(render(text, title="T").sections) > 100


def test_markup_just_under_the_limit_is_accepted():
    assert budget_problems("*a" * MAX_MARKUP_CHARACTERS) == []
    assert budget_problems("*a" * (MAX_MARKUP_CHARACTERS + 1))


@pytest.mark.django_db
@pytest.mark.parametrize("source", CRASHING.values(), ids=CRASHING.keys())
def test_preview_and_analysis_of_nested_text_answer(client, handbook, source):
    as_user(client, "redaktor.bergen")
    preview = client.post("/redaksjon/markdownx/markdownify/", {"content": source})
    analysis = client.post("/redaksjon/analyse/", {"content": source, "title": "T"})
    assert preview.status_code == 200 and analysis.status_code == 200


@pytest.mark.django_db
def test_preview_of_text_over_the_budget_explains_instead_of_rendering(client, handbook):
    as_user(client, "redaktor.bergen")
    response = client.post(
        "/redaksjon/markdownx/markdownify/", {"content": OVER_BUDGET["brackets"]}
    )
    assert response.status_code == 200
    assert "formateringstegn" in response.content.decode()


@pytest.mark.django_db
def test_saving_a_draft_over_the_budget_is_refused_and_changes_nothing(client, handbook):
    draft = create_draft(bergen_policy(), by=person("redaktor.bergen"))
    response = as_user(client, "redaktor.bergen").post(
        BERGEN + "utkast/",
        {"title": draft.title, "body": OVER_BUDGET["headings"], "revision": draft.revision},
    )
    # The draft page shows the form again with its errors, as for any other invalid draft.
    assert response.status_code == 200
    assert "overskrifter. Grensen er" in response.content.decode()
    assert PolicyVersion.objects.get(pk=draft.pk).body == draft.body


@pytest.mark.django_db
@pytest.mark.parametrize(
    "source", [*CRASHING.values(), OVER_BUDGET["headings"]], ids=[*CRASHING, "over budget"]
)
def test_a_stored_draft_of_hostile_text_can_still_be_opened_compared_and_refused(
    client, handbook, source
):
    # Saved before the budget existed (or by another path): every page must still answer.
    draft = create_draft(bergen_policy(), by=person("redaktor.bergen"))
    save_draft(draft, by=None, title=draft.title, body=source, revision=draft.revision)
    draft.refresh_from_db()
    as_user(client, "redaktor.bergen")
    assert client.get(BERGEN + "utkast/").status_code == 200
    assert client.get(BERGEN + "utkast/sammenlign/").status_code == 200
    assert client.get(BERGEN + "publiser/").status_code == 200
    response = client.post(BERGEN + "publiser/", _publish_data(draft))
    assert response.status_code in (302, 400)
    if source == OVER_BUDGET["headings"]:
        assert response.status_code == 400
        assert "Grensen er" in response.content.decode()
        assert PolicyVersion.objects.get(pk=draft.pk).status == Status.DRAFT


@pytest.mark.django_db
def test_publish_refuses_text_over_the_budget_before_the_database_sees_it(handbook):
    draft = create_draft(bergen_policy(), by=person("redaktor.bergen"))
    save_draft(draft, by=None, title=draft.title, body=OVER_BUDGET["brackets"], revision=1)
    with pytest.raises(WorkflowError, match="formateringstegn"):
        publish(draft, by=None, change_kind="editorial", change_note="x")
    assert PolicyVersion.objects.get(pk=draft.pk).status == Status.DRAFT
