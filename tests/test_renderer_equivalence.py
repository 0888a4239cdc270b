"""The move from Python-Markdown to markdown-it-py (issue 14) changes no stored text: every fixture
renders to the same HTML as before, headings, list items, links, tables and anchors alike.

The old renderer's configuration is rebuilt here (and in bench/rendering.py) only to compare; only
whitespace between tags is normalised.
"""

import re

import markdown
import nh3
import pytest

from policies.fixtures import FIXTURES_DIR, read_document
from policies.rendering import ALLOWED_TAGS, ALLOWED_URL_SCHEMES, render_html, slugify_heading

FIXTURE_FILES = sorted(FIXTURES_DIR.glob("handbook/*/*/*.md")) + sorted(
    FIXTURES_DIR.glob("resources/*.md")
)


def old_render_html(source: str) -> str:
    """Python-Markdown as Håndboka used it until issue 14."""
    md = markdown.Markdown(
        extensions=["extra", "sane_lists", "toc"],
        extension_configs={"toc": {"slugify": slugify_heading, "toc_depth": "2-6"}},
        output_format="html",
    )
    raw = re.sub(r"<(/?)h1\b", r"<\1h2", md.convert(source))
    attributes = {
        "a": {"href", "title"},
        "abbr": {"title"},
        "img": {"src", "alt", "title", "width", "height"},
        **{f"h{n}": {"id"} for n in range(2, 7)},
        "td": {"colspan", "rowspan"},
        "th": {"colspan", "rowspan", "scope"},
        "ol": {"start"},
    }
    return nh3.clean(
        raw,
        tags=ALLOWED_TAGS,
        attributes=attributes,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def normalised(fragment: str) -> str:
    """Whitespace between tags and runs of whitespace do not change what a reader sees."""
    fragment = re.sub(r"\s+", " ", fragment)
    return re.sub(r"\s*(<[^>]+>)\s*", r"\1", fragment).strip()


def _body(path) -> str:
    return read_document(path).body


def test_every_fixture_is_covered():
    assert len(FIXTURE_FILES) >= 6


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixture_renders_the_same_as_with_python_markdown(path):
    body = _body(path)
    assert normalised(render_html(body)) == normalised(old_render_html(body))


@pytest.mark.parametrize(
    "source",
    [
        "| Kanal | Ansvar |\n|---|---|\n| Facebook | Kommunikasjon |\n| X | Ingen |\n",
        "1. én\n2. to\n\n    avsnitt\n\n3. tre\n",
        "- a\n- b\n\n- c\n- d\n\nEtter.\n",
        'Se [retningslinjen](https://www.bergen.kommune.no/ "Bergen") og <https://ks.no>.\n',
        "## Regler\n\ntekst\n\n## Regler\n\n### Under *vekt*\n",
        "> Sitat med **fet** og `kode`.\n\n---\n\n```\nkode <b>\n```\n",
        "Linje med  \nhardt linjeskift; ~~ikke strøket~~.\n",
    ],
)
def test_everyday_constructs_render_the_same_as_with_python_markdown(source):
    assert normalised(render_html(source)) == normalised(old_render_html(source))
