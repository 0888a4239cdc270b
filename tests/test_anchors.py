"""Heading anchors cannot collide (issue 14, item 4): ids written in raw HTML are dropped, the page's
own ids are never taken, repeats are numbered, length is bounded, and a text with too many sections
is refused in Norwegian before the database sees it."""

import re
from pathlib import Path

import pytest

from policies.models import Section, Status
from policies.rendering import MAX_SECTIONS, RESERVED_ID_PREFIXES, RESERVED_IDS, render
from policies.workflow import WorkflowError, create_draft, publish, save_draft

from .factories import make_organisation, make_policy

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

HOSTILE = (
    '<h2 id="bekreft">Hopp</h2>\n\n<h3 id="main">Hovud</h3>\n\n'
    '<h2 id="policy-title">Tittel</h2>\n\n<h2 id="policy-title">Tittel</h2>\n\n'
    '## Mål\n\ntekst\n\n<h3 id="mal">Mål</h3>\n\n'
    f'<h4 id="{"x" * 300}">{"lang" * 80}</h4>\n\n## Main\n\n## Bekreft\n'
)


def test_every_literal_id_in_the_templates_is_reserved():
    ids = set()
    for template in TEMPLATES.rglob("*.html"):
        ids |= set(re.findall(r'\bid="([^"{]+)"', template.read_text()))
    assert ids - RESERVED_IDS == set()


def test_ids_from_raw_html_never_reach_the_page_and_anchors_are_unique():
    rendered = render(HOSTILE, title="T")
    ids = re.findall(r'\bid="([^"]*)"', rendered.html)
    assert len(ids) == len(set(ids)) == len(rendered.sections)
    assert not set(ids) & RESERVED_IDS
    assert not any(i.startswith(RESERVED_ID_PREFIXES) for i in ids)
    assert all(len(i) <= 100 for i in ids)
    assert "mal" in ids and "mal_1" in ids


@pytest.mark.django_db
def test_a_published_page_carries_each_of_its_own_ids_once(client):
    organisation = make_organisation()
    policy = make_policy(organisation, body=HOSTILE)
    html = client.get(policy.get_absolute_url()).content.decode()
    ids = re.findall(r'\bid="([^"]*)"', html)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    anchors = list(Section.objects.filter(version__policy=policy).values_list("anchor", flat=True))
    assert len(anchors) == len(set(anchors)) and max(map(len, anchors)) <= 120


@pytest.mark.django_db
def test_too_many_sections_are_refused_in_norwegian_before_the_database(handbook):
    from .test_views_editorial import bergen_policy, person

    draft = create_draft(bergen_policy(), by=person("redaktor.bergen"))
    body = "".join(f"<h3>Del {i}</h3>\n" for i in range(MAX_SECTIONS + 1))
    save_draft(draft, by=None, title=draft.title, body=body, revision=1)
    with pytest.raises(WorkflowError, match="overskrifter"):
        publish(draft, by=None, change_kind="editorial", change_note="x")
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT and not draft.sections.exists()
