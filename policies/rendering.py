"""Markdown -> sanitised HTML -> sections: the one function used by the editor preview and by publishing.

The HTML that reaches a page comes only from here, and only after nh3 has applied an allowlist, so a
`<script>`, an `onerror=` or a `javascript:` link in a body never reaches a reader.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass

import markdown
import nh3

ALLOWED_TAGS = {
    "a", "abbr", "blockquote", "br", "code", "del", "em", "h2", "h3", "h4", "h5", "h6", "hr",
    "img", "li", "ol", "p", "pre", "strong", "sub", "sup", "table", "tbody", "td", "th", "thead",
    "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "h2": {"id"},
    "h3": {"id"},
    "h4": {"id"},
    "h5": {"id"},
    "h6": {"id"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "ol": {"start"},
}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto", "tel"}

# Ids the page itself uses; a heading never takes one of them.
RESERVED_IDS = {
    "main",
    "innledning",
    "innhold",
    "toc",
    "innholdsfortegnelse",
    "bekreft",
    "historikk",
    "sok",
}

_TRANSLITERATE = str.maketrans(
    {"æ": "ae", "ø": "o", "å": "a", "é": "e", "ü": "u", "ä": "a", "ö": "o"}
)
_HEADING = re.compile(r'<h([2-6]) id="([^"]+)">(.*?)</h\1>', re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


def slugify_heading(value: str, separator: str = "-") -> str:
    """A stable, readable ASCII anchor for a Norwegian heading: 'Din rolle som privatperson' ->
    'din-rolle-som-privatperson'."""
    text = html.unescape(_TAG.sub("", value)).lower().translate(_TRANSLITERATE)
    slug = re.sub(r"[^a-z0-9]+", separator, text).strip(separator)[:80].strip(separator)
    if not slug:
        slug = "avsnitt"
    if slug in RESERVED_IDS or slug[0].isdigit():
        slug = f"avsnitt{separator}{slug}"
    return slug


@dataclass(frozen=True)
class RenderedSection:
    position: int
    anchor: str
    level: int
    heading: str
    text: str


@dataclass(frozen=True)
class Rendered:
    html: str
    sections: list[RenderedSection]
    text_hash: str

    @property
    def toc(self) -> list[RenderedSection]:
        """The headings for the table of contents (the untitled preamble is not one)."""
        return [s for s in self.sections if s.level >= 2]


def _markdown_to_html(source: str) -> str:
    md = markdown.Markdown(
        extensions=["extra", "sane_lists", "toc"],
        extension_configs={"toc": {"slugify": slugify_heading, "toc_depth": "2-6"}},
        output_format="html",
    )
    raw = md.convert(source)
    # The page has its own <h1> (the title); a level-one heading in the body becomes level two.
    return re.sub(r"<(/?)h1\b", r"<\1h2", raw)


def render_html(source: str) -> str:
    """Markdown to sanitised HTML. Also markdownx's preview function (MARKDOWNX_MARKDOWNIFY_FUNCTION)."""
    return nh3.clean(
        _markdown_to_html(source),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def plain_text(fragment: str) -> str:
    """The readable text of an HTML fragment, whitespace folded."""
    return re.sub(r"\s+", " ", html.unescape(_TAG.sub(" ", fragment))).strip()


def text_hash(rendered_html: str) -> str:
    return hashlib.sha256(rendered_html.encode()).hexdigest()


def render(source: str, *, title: str = "") -> Rendered:
    """Render a body and split it into sections at its headings.

    Text before the first heading becomes a preamble section (level 1) headed by the title.
    """
    body_html = render_html(source)
    sections: list[RenderedSection] = []
    matches = list(_HEADING.finditer(body_html))
    preamble = plain_text(body_html[: matches[0].start()] if matches else body_html)
    if preamble:
        sections.append(RenderedSection(0, "innledning", 1, title or "Innledning", preamble))
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(body_html)
        sections.append(
            RenderedSection(
                position=len(sections),
                anchor=match.group(2),
                level=int(match.group(1)),
                heading=plain_text(match.group(3)),
                text=plain_text(body_html[match.end() : end]),
            )
        )
    return Rendered(html=body_html, sections=sections, text_hash=text_hash(body_html))
