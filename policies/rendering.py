"""Markdown -> sanitised HTML -> sections: the one function used by the editor preview and by publishing.

The HTML that reaches a page comes only from here, and only after nh3 has applied an allowlist, so a
`<script>`, an `onerror=` or a `javascript:` link in a body never reaches a reader.

Rendering has a budget. markdown-it-py parses CommonMark in linear time and never recurses deeper
than `MAX_NESTING`, so no text can crash it; but even linear work in Python costs microseconds per
token, so a text is first measured (`budget_problems`, a few cheap counts) and refused, with a
Norwegian message, when it would take a worker more than a fraction of a second. Heading anchors are
assigned here, after sanitising, so an id written in raw HTML never reaches a page.
"""

from __future__ import annotations

import functools
import hashlib
import html
import posixpath
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import nh3
from django.conf import settings
from django.utils.translation import gettext as _
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore

ALLOWED_TAGS = {
    "a", "abbr", "blockquote", "br", "code", "del", "em", "h2", "h3", "h4", "h5", "h6", "hr",
    "img", "li", "ol", "p", "pre", "strong", "sub", "sup", "table", "tbody", "td", "th", "thead",
    "tr", "ul",
}  # fmt: skip
# No `id` anywhere: heading anchors are added after sanitising (see _add_anchors), so ids written
# in raw HTML are dropped and cannot collide with the page's own or with each other.
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "ol": {"start"},
}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto", "tel"}
# The tags that get an `id` (their anchor) after sanitising.
ANCHORED_TAGS = {"h2", "h3", "h4", "h5", "h6"}

# Ids the page itself uses (templates/); a heading never takes one of them. tests/test_anchors.py
# checks that every literal id in the templates is listed here.
RESERVED_IDS = frozenset(
    {
        "analyse", "bakgrunn", "bekreft", "bekreftet", "bilde", "bildeopplasting", "endret", "fra",
        "forhandsvisning-tittel", "historikk", "innhold", "innhold-tittel", "innholdsfortegnelse",
        "innledning", "innstillinger-tittel", "konflikt", "konflikt-deres", "konflikt-min",
        "konflikt-tittel", "lix-tittel", "ma-bekreftes", "main", "mine-bekreftelser", "mine-data",
        "opplasting-status", "policy-title", "site-search-q", "skjemafeil", "sok", "sok-kommune",
        "sok-q", "sok-tidligere", "status", "til", "toc", "treff", "true", "utkast-skjema",
        "utkast-tittel", "versjoner-tittel", "om-deg", "roller", "egne", "nasjonale", "treff-andre",
        # Issue 12: what changed, receipts, notices, the menu.
        "endrede-avsnitt", "funnet", "hovedmeny", "kvittering", "referanse", "referanse-feil",
        "varsler", "vesentlige-endringer", "hva-skjer", "historikk-filter",
        "sprakversjon", "sprakversjoner-tittel", "oversettelse-original", "oversettelse-tekst",
    }
)  # fmt: skip
# Ids the templates build from a prefix (pagination links `side-N`, form fields `id_...`).
RESERVED_ID_PREFIXES = ("side-", "id_")
MAX_ANCHOR_LENGTH = 80  # plus at most "avsnitt-" and "_NNNN": well inside Section.anchor's 120

# The budget. Each figure is far above what a real guideline needs (the largest fixture has 100
# lines, 14 headings and 113 markup characters; a 142 kB text of five copies of every fixture has
# 1 580 lines and 1 140 markup characters) and low enough that the slowest text within all of them
# renders in a fraction of a second (bench/rendering.py prints the figures).
MAX_SOURCE_LENGTH = 200_000
MAX_LINES = 5_000
MAX_SECTIONS = 500
MAX_MARKUP_CHARACTERS = 10_000
MAX_DEPTH = 10  # lists and quotes inside each other, as written at the start of a line
MAX_HTML_TAGS = 1_000  # raw HTML; the sanitiser's HTML parser is slow on deep nesting
# markdown-it-py's own cap on token nesting (a list level is two: list and item), above what
# MAX_DEPTH lets through, so an accepted text never loses content to it.
MAX_NESTING = 4 * MAX_DEPTH
_MARKUP = "[]()!*_`<|~"
# What may become a heading: an ATX line (#), a setext underline (=== or ---), a raw HTML heading.
_HEADING_LINE = re.compile(r"^ {0,3}(?:#{1,6}(?:[ \t]|$)|=+[ \t]*$|-+[ \t]*$)", re.M)
_RAW_HEADING = re.compile(r"<h[1-6]\b", re.I)
_RAW_TAG = re.compile(r"</?[A-Za-z]")
# The containers a line opens: indentation, quote markers and list markers before its text.
_CONTAINERS = re.compile(r"^[ \t]*(?:(?:>|[-+*]|\d{1,9}[.)])(?:[ \t]+|$))+", re.M)
_CONTAINER_MARKER = re.compile(r">|[-+*](?=[ \t]|$)|\d{1,9}[.)](?=[ \t]|$)")

_TRANSLITERATE = str.maketrans(
    {"æ": "ae", "ø": "o", "å": "a", "é": "e", "ü": "u", "ä": "a", "ö": "o"}
)
_HEADING = re.compile(r'<h([2-6]) id="([^"]+)">(.*?)</h\1>', re.DOTALL)
_BARE_HEADING = re.compile(r"<h([2-6])>(.*?)</h\1>", re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


def _number(value: int) -> str:
    return f"{value:,}".replace(",", "\u00a0")


def _too_many_headings(count: int) -> str:
    return _(
        "Teksten har %(count)s overskrifter. Grensen er %(limit)s overskrifter; "
        "del teksten opp i flere retningslinjer."
    ) % {"count": _number(count), "limit": _number(MAX_SECTIONS)}


def budget_problems(source: str) -> list[str]:
    """Why `source` is too large or too complex to render, in Norwegian; empty when it is fine.

    Only counts, no parsing: this runs before every render and must itself be cheap.
    """
    problems = []
    if len(source) > MAX_SOURCE_LENGTH:
        problems.append(
            _(
                "Teksten har %(count)s tegn. Grensen er %(limit)s tegn; "
                "del den opp i flere retningslinjer."
            )
            % {"count": _number(len(source)), "limit": _number(MAX_SOURCE_LENGTH)}
        )
        # The counts below would only repeat the same advice for a text this long.
        return problems
    lines = source.count("\n") + 1
    if lines > MAX_LINES:
        problems.append(
            _(
                "Teksten har %(count)s linjer. Grensen er %(limit)s linjer; "
                "slå sammen korte linjer eller del teksten opp."
            )
            % {"count": _number(lines), "limit": _number(MAX_LINES)}
        )
    headings = len(_HEADING_LINE.findall(source)) + len(_RAW_HEADING.findall(source))
    if headings > MAX_SECTIONS:
        problems.append(_too_many_headings(headings))
    markup = sum(map(source.count, _MARKUP))
    if markup > MAX_MARKUP_CHARACTERS:
        problems.append(
            _(
                "Teksten har %(count)s formateringstegn (som [ ] ( ) * _ ` < | ! ~). Grensen er "
                "%(limit)s; fjern gjentatte tegn eller del teksten opp."
            )
            % {"count": _number(markup), "limit": _number(MAX_MARKUP_CHARACTERS)}
        )
    depth = _deepest_nesting(source)
    if depth > MAX_DEPTH:
        problems.append(
            _(
                "Teksten har lister eller sitater %(count)s nivåer inni hverandre. Grensen er %(limit)s nivåer."
            )
            % {"count": depth, "limit": MAX_DEPTH}
        )
    if source.count("<") > MAX_HTML_TAGS:
        tags = len(_RAW_TAG.findall(source))
        if tags > MAX_HTML_TAGS:
            problems.append(
                _("Teksten har %(count)s HTML-koder. Grensen er %(limit)s; bruk Markdown i stedet.")
                % {"count": _number(tags), "limit": _number(MAX_HTML_TAGS)}
            )
    return problems


def _deepest_nesting(source: str) -> int:
    """An upper estimate of how deep lists and quotes nest: markers at the start of a line, plus
    one level per two spaces of indentation before them (how nested lists are written)."""
    deepest = 0
    for match in _CONTAINERS.finditer(source):
        prefix = match.group(0)
        indent = len(prefix) - len(prefix.lstrip(" \t"))
        depth = len(_CONTAINER_MARKER.findall(prefix)) + indent // 2
        deepest = max(deepest, depth)
    return deepest


def slugify_heading(value: str, separator: str = "-") -> str:
    """A stable, readable ASCII anchor for a Norwegian heading: 'Din rolle som privatperson' ->
    'din-rolle-som-privatperson'."""
    text = html.unescape(_TAG.sub("", value)).lower().translate(_TRANSLITERATE)
    slug = re.sub(r"[^a-z0-9]+", separator, text).strip(separator)
    slug = slug[:MAX_ANCHOR_LENGTH].strip(separator)
    if not slug:
        slug = "avsnitt"
    if slug in RESERVED_IDS or slug.startswith(RESERVED_ID_PREFIXES) or slug[0].isdigit():
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
    problems: tuple[str, ...] = ()

    @property
    def toc(self) -> list[RenderedSection]:
        """The headings for the table of contents (the untitled preamble is not one)."""
        return [s for s in self.sections if s.level >= 2]


def _loose_items_as_python_markdown(state: StateCore) -> None:
    """Decide item by item, as Python-Markdown did, whether a list item's text is a paragraph.

    CommonMark makes a whole list loose when any two items are apart or one item holds two
    paragraphs. The guidelines were written for (and their fixtures checked against) Python-Markdown,
    where an item is loose only when it holds several paragraphs or a blank line separates it from
    its neighbour. Runs in one pass over the tokens.
    """
    tokens = state.tokens
    lines = state.src.split("\n")

    def blank(line_number: int) -> bool:
        return 0 <= line_number < len(lines) and not lines[line_number].strip()

    # One frame per open list: its items as [open token, [direct paragraph_open indices]].
    lists: list[list[list]] = []
    items: list[list] = []
    for index, token in enumerate(tokens):
        if token.type in ("bullet_list_open", "ordered_list_open"):
            lists.append([])
        elif token.type == "list_item_open":
            item = [token, []]
            if lists:
                lists[-1].append(item)
            items.append(item)
        elif token.type == "list_item_close" and items:
            items.pop()
        elif token.type == "paragraph_open" and items and token.level == items[-1][0].level + 1:
            items[-1][1].append(index)
        elif token.type in ("bullet_list_close", "ordered_list_close") and lists:
            members = lists.pop()
            # A blank line at the end of an item (not the last) parts it from the next one.
            apart = [
                i < len(members) - 1 and bool(item[0].map) and blank(item[0].map[1] - 1)
                for i, item in enumerate(members)
            ]
            for i, (_opened, paragraphs) in enumerate(members):
                loose = len(paragraphs) > 1 or apart[i] or (i > 0 and apart[i - 1])
                for paragraph in paragraphs:
                    tokens[paragraph].hidden = not loose
                    tokens[paragraph + 2].hidden = not loose


def _parser() -> MarkdownIt:
    # CommonMark plus tables, as Python-Markdown's "extra" had them. Not its abbreviations,
    # definition lists, footnotes or attribute lists: no guideline uses them, and their syntax is
    # what made the old renderer quadratic or recursive.
    md = MarkdownIt("commonmark", {"html": True, "maxNesting": MAX_NESTING})
    md.enable("table")
    md.core.ruler.push("loose_items_as_python_markdown", _loose_items_as_python_markdown)
    return md


_MD = _parser()


def _own_hosts() -> set[str]:
    hosts = {h.lstrip(".").lower() for h in settings.ALLOWED_HOSTS if h not in ("*", "")}
    site = urlsplit(settings.SITE_URL).hostname
    return hosts | ({site.lower()} if site else set())


def _image_source_allowed(value: str) -> bool:
    """An image may come from elsewhere, or from our own uploaded and static files, but never from
    one of our pages: `<img src="/oversikt/.../eksport.xlsx">` made a reader's browser export."""
    # As a browser reads the address (WHATWG URL): tabs and newlines vanish, backslashes are
    # slashes, and %2e is a dot when resolving `..`.
    url = re.sub(r"[\t\n\r]", "", value).strip().replace("\\", "/")
    parts = urlsplit(url)
    if parts.netloc and (parts.hostname or "").lower() not in _own_hosts():
        return True
    path = re.sub(r"%2e", ".", parts.path, flags=re.I)
    if not path.startswith("/"):
        # A relative address resolves against the policy page, which is never an image folder.
        return False
    resolved = "/" + posixpath.normpath(path).lstrip("/")
    return resolved.startswith((settings.MEDIA_URL, settings.STATIC_URL))


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src" and not _image_source_allowed(value):
        return None
    return value


def _sanitise(raw: str) -> str:
    return nh3.clean(
        raw,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=_attribute_filter,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def _add_anchors(fragment: str) -> str:
    """Give each heading of sanitised HTML a unique anchor that is none of the page's own ids."""
    used: set[str] = set()

    def anchor(match: re.Match) -> str:
        level, inner = match.group(1), match.group(2)
        base = slugify_heading(inner)
        candidate, n = base, 0
        # Python-Markdown's toc numbered repeats as `_1`, `_2`: published links keep working.
        while candidate in used or candidate in RESERVED_IDS:
            n += 1
            candidate = f"{base}_{n}"
        used.add(candidate)
        return f'<h{level} id="{candidate}">{inner}</h{level}>'

    return _BARE_HEADING.sub(anchor, fragment)


def _notice(problems: list[str]) -> str:
    items = "".join(f"<li>{html.escape(p)}</li>" for p in problems)
    heading = html.escape(_("Teksten kan ikke vises."))
    return f"<p><strong>{heading}</strong></p><ul>{items}</ul>"


def _render_body(source: str) -> tuple[str, tuple[str, ...]]:
    problems = budget_problems(source)
    if problems:
        # Not cached: the notice is in the interface language of whoever is looking.
        return _notice(problems), tuple(problems)
    return _render_markdown(source), ()


@functools.lru_cache(maxsize=32)
def _render_markdown(source: str) -> str:
    # The draft page, the preview, the analysis and publishing render the same text in turn;
    # the cache makes every one after the first free.
    raw = _MD.render(source)
    # The page has its own <h1> (the title); a level-one heading in the body becomes level two.
    raw = re.sub(r"<(/?)h1\b", r"<\1h2", raw, flags=re.I)
    return _add_anchors(_sanitise(raw))


def render_html(source: str) -> str:
    """Markdown to sanitised HTML. Also markdownx's preview function (MARKDOWNX_MARKDOWNIFY_FUNCTION).

    Never raises: a text over the budget renders as a Norwegian notice saying why.
    """
    return _render_body(source)[0]


def plain_text(fragment: str) -> str:
    """The readable text of an HTML fragment, whitespace folded."""
    return re.sub(r"\s+", " ", html.unescape(_TAG.sub(" ", fragment))).strip()


def text_hash(rendered_html: str) -> str:
    return hashlib.sha256(rendered_html.encode()).hexdigest()


def render(source: str, *, title: str = "") -> Rendered:
    """Render a body and split it into sections at its headings.

    Text before the first heading becomes a preamble section (level 1) headed by the title. A text
    over the budget gives its notice and no sections, with `problems` saying why; publishing
    refuses it (workflow.publish).
    """
    body_html, problems = _render_body(source)
    if not problems and len(_HEADING.findall(body_html)) > MAX_SECTIONS:
        # The count before rendering estimates; this one is exact (raw HTML inside a line, say).
        problems = (_too_many_headings(len(_HEADING.findall(body_html))),)
    if problems:
        return Rendered(
            html=body_html, sections=[], text_hash=text_hash(body_html), problems=problems
        )
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
