"""A readable word-level difference between two versions of a policy.

Works on the words of the rendered (sanitised) HTML, block by block, so Markdown syntax never shows
up as a change. Inserted and deleted words are marked with <ins>/<del> and a visually hidden
"Lagt til:"/"Fjernet:" so that screen readers announce them too.
"""

from __future__ import annotations

import difflib
import hashlib
import html
import re
from dataclasses import dataclass

from django.utils import translation
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

# Block elements: each starts a new paragraph in the diff.
_BLOCK = re.compile(r"</?(?:p|h[1-6]|li|ul|ol|blockquote|pre|tr|table|hr)\b[^>]*>", re.IGNORECASE)
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")
PARAGRAPH = "\n"


@dataclass(frozen=True)
class Diff:
    html: SafeString
    added: int
    removed: int

    @property
    def unchanged(self) -> bool:
        return self.added == 0 and self.removed == 0


def words_of(body_html: str) -> list[str]:
    """The words of rendered HTML, with PARAGRAPH between blocks."""
    tokens: list[str] = []
    for block in _BLOCK.split(body_html):
        # Inline tags vanish without a space ("<strong>viktig</strong>." is one word "viktig.").
        words = html.unescape(_TAG.sub("", _BREAK.sub(" ", block))).split()
        if words:
            if tokens:
                tokens.append(PARAGRAPH)
            tokens.extend(words)
    return tokens


def _render(runs: list[tuple[str, list[str]]]) -> str:
    paragraphs: list[list[str]] = [[]]
    for kind, words in runs:
        piece: list[str] = []

        def flush(kind=kind, piece=piece):
            if not piece:
                return
            text = escape(" ".join(piece))
            if kind == "ins":
                paragraphs[-1].append(
                    f'<ins class="diff-ins">{_spoken(_("Lagt til:"))}{text}</ins>'
                )
            elif kind == "del":
                paragraphs[-1].append(f'<del class="diff-del">{_spoken(_("Fjernet:"))}{text}</del>')
            else:
                paragraphs[-1].append(text)
            piece.clear()

        for word in words:
            if word == PARAGRAPH:
                flush()
                paragraphs.append([])
            else:
                piece.append(word)
        flush()
    return "".join(f"<p>{' '.join(p)}</p>" for p in paragraphs if p)


# Word-level matching is quadratic in the words of a changed stretch. Above this many word pairs,
# in one stretch or in all of them together, a changed stretch is shown as removed and added whole.
MAX_WORD_PAIRS = 1_000_000


def _blocks(words: list[str]) -> list[tuple[str, ...]]:
    blocks: list[tuple[str, ...]] = []
    start = 0
    for index, word in enumerate([*words, PARAGRAPH]):
        if word == PARAGRAPH:
            blocks.append(tuple(words[start : index + 1]))
            start = index + 1
    return blocks


def _opcodes(old: list[str], new: list[str]):
    """difflib opcodes over words, matched first block by block, then word by word inside the
    stretches of changed blocks: two long texts that share little cannot take a worker for minutes."""
    old_blocks, new_blocks = _blocks(old), _blocks(new)
    # Block-level matching; autojunk lets a block repeated hundreds of times not make it quadratic.
    blocks = difflib.SequenceMatcher(None, old_blocks, new_blocks, autojunk=True)
    old_at = [0]
    for block in old_blocks:
        old_at.append(old_at[-1] + len(block))
    new_at = [0]
    for block in new_blocks:
        new_at.append(new_at[-1] + len(block))
    budget = MAX_WORD_PAIRS
    for op, b1, b2, c1, c2 in blocks.get_opcodes():
        if op != "replace":
            yield op, old_at[b1], old_at[b2], new_at[c1], new_at[c2]
            continue
        # As many blocks changed as replaced them (every paragraph edited a little): compare them
        # pair by pair. Otherwise the whole stretch at once.
        if b2 - b1 == c2 - c1:
            stretches = [
                (b, b + 1, c, c + 1) for b, c in zip(range(b1, b2), range(c1, c2), strict=True)
            ]
        else:
            stretches = [(b1, b2, c1, c2)]
        for s1, s2, t1, t2 in stretches:
            i1, i2, j1, j2 = old_at[s1], old_at[s2], new_at[t1], new_at[t2]
            pairs = (i2 - i1) * (j2 - j1)
            if pairs > budget:
                yield "replace", i1, i2, j1, j2
                continue
            budget -= pairs
            words = difflib.SequenceMatcher(None, old[i1:i2], new[j1:j2], autojunk=False)
            for wop, w1, w2, v1, v2 in words.get_opcodes():
                yield wop, i1 + w1, i1 + w2, j1 + v1, j1 + v2


def word_diff(old_html: str, new_html: str) -> Diff:
    """The difference from `old_html` to `new_html` as HTML with <ins>/<del>."""
    old, new = words_of(old_html), words_of(new_html)
    runs: list[tuple[str, list[str]]] = []
    added = removed = 0
    for op, i1, i2, j1, j2 in _opcodes(old, new):
        if op == "equal":
            runs.append(("equal", new[j1:j2]))
            continue
        if op in ("delete", "replace"):
            runs.append(("del", old[i1:i2]))
            removed += sum(1 for w in old[i1:i2] if w != PARAGRAPH)
        if op in ("insert", "replace"):
            runs.append(("ins", new[j1:j2]))
            added += sum(1 for w in new[j1:j2] if w != PARAGRAPH)
    return Diff(html=mark_safe(_render(runs)), added=added, removed=removed)  # noqa: S308 - every word is escaped.


# --- What changed, section by section ----------------------------------------------------------
#
# The word diff above compares whole texts: difflib's SequenceMatcher is quadratic in the worst
# case, and two 20 000-word versions took longer than gunicorn's timeout. The section diff bounds
# the work in three steps: sections are paired by their anchors, identical sections are skipped by
# comparing their blocks' text, and inside a changed section paragraphs and list items are paired
# before any words are compared. Each pair of blocks gets a word diff only while it is shorter than
# BLOCK_WORD_CAP and the whole comparison has WORD_BUDGET words left; past either cap the old block
# is shown as removed and the new one as added, which is still correct, only less fine-grained.

BLOCK_WORD_CAP = 1500
WORD_BUDGET = 60_000
CONTEXT_BLOCKS = 1
CACHE_SECONDS = 7 * 24 * 3600
# Bump when the output changes, so that cached results of the old shape are never shown.
_CACHE_VERSION = 2

_TOKEN = re.compile(r"(<[^>]*>)")


def _spoken(label: str, space: str = " ") -> str:
    """A word for screen readers inside the policy's text, in the interface's language (the text
    around it carries the policy's own lang)."""
    return f'<span class="ds-sr-only" lang="{translation.get_language()}">{escape(label)}{space}</span>'


_TAG_NAME = re.compile(r"<\s*(/?)\s*([a-zA-Z][a-zA-Z0-9]*)([^>]*)>")
_ID = re.compile(r'\bid="([^"]*)"')
_ALT = re.compile(r'\balt="([^"]*)"')
_LEAF = {"p", "li", "pre", "tr", "h2", "h3", "h4", "h5", "h6"}
_HEADINGS = {"h2", "h3", "h4", "h5", "h6"}
_LISTS = {"ul", "ol"}


@dataclass(frozen=True)
class Block:
    """One paragraph, list item, table row, code block or heading, as words."""

    tag: str
    words: tuple[str, ...]
    list_tag: str = ""
    depth: int = 0
    number: int = 0  # the item's number in an ordered list
    anchor: str = ""

    @property
    def key(self) -> str:
        return f"{self.tag}|{self.list_tag}|{' '.join(self.words)}"


def blocks_of(body_html: str) -> list[Block]:
    """The blocks of sanitised HTML in document order; inline markup is dropped, words kept."""
    blocks: list[Block] = []
    lists: list[list] = []  # [tag, items so far] for each open list
    current: dict | None = None

    def flush():
        nonlocal current
        if current is None:
            return
        words = tuple(html.unescape(" ".join(current["text"])).split())
        if words:
            list_tag, depth, number = ("", 0, 0)
            if current["tag"] == "li" and lists:
                list_tag, depth, number = lists[-1][0], len(lists), lists[-1][1]
            blocks.append(
                Block(current["tag"], words, list_tag, depth, number, current.get("anchor", ""))
            )
        current = None

    def start(tag: str, anchor: str = ""):
        nonlocal current
        flush()
        current = {"tag": tag, "text": [], "anchor": anchor}

    for token in _TOKEN.split(body_html):
        if not token:
            continue
        if not token.startswith("<"):
            if token.strip():
                if current is None:
                    start("li" if lists else "p")
                current["text"].append(token)
            continue
        match = _TAG_NAME.match(token)
        if match is None:
            continue
        closing, name, attrs = match.group(1) == "/", match.group(2).lower(), match.group(3)
        if name in _LISTS:
            flush()
            if closing:
                if lists:
                    lists.pop()
            else:
                lists.append([name, 0])
        elif name in _LEAF and not closing:
            if name == "li" and lists:
                lists[-1][1] += 1
            # A paragraph inside a list item continues the item.
            if name == "p" and lists and (current is None or current["tag"] == "li"):
                if current is None or current["text"]:
                    start("li")
                continue
            id_match = _ID.search(attrs)
            start(name, id_match.group(1) if id_match else "")
        elif name in _LEAF and closing:
            # A list item's inner paragraph ends with the item.
            if current is not None and (
                current["tag"] == name or (name == "p" and current["tag"] == "li")
            ):
                flush()
        elif name in ("td", "th") and not closing:
            if current is not None and current["text"]:
                current["text"].append(" |")
            current = current or {"tag": "tr", "text": []}
            current["text"].append(" ")
        elif name == "br" or name in ("td", "th"):
            if current is not None:
                current["text"].append(" ")
        elif name == "img" and not closing:
            alt = _ALT.search(attrs)
            if current is None:
                start("p")
            current["text"].append(f" [Bilde: {alt.group(1) if alt else 'uten beskrivelse'}] ")
        elif name in ("hr", "table", "blockquote"):
            flush()
    flush()
    return blocks


@dataclass(frozen=True)
class _Section:
    heading: Block | None
    blocks: list[Block]
    path: tuple[str, ...]  # the headings above this one, outermost first

    @property
    def anchor(self) -> str:
        return self.heading.anchor if self.heading else "innledning"

    def words(self) -> tuple[str, ...]:
        heading = self.heading.words if self.heading else ()
        return heading + tuple(w for b in self.blocks for w in b.words)

    @property
    def keys(self) -> list[str]:
        return [b.key for b in self.blocks]


def _sections_of(blocks: list[Block]) -> list[_Section]:
    sections: list[_Section] = []
    open_headings: list[Block] = []
    heading: Block | None = None
    body: list[Block] = []
    for block in blocks:
        if block.tag in _HEADINGS:
            if heading is not None or body:
                sections.append(
                    _Section(heading, body, tuple(" ".join(h.words) for h in open_headings[:-1]))
                )
            while open_headings and open_headings[-1].tag >= block.tag:
                open_headings.pop()
            open_headings.append(block)
            heading, body = block, []
        else:
            body.append(block)
    if heading is not None or body:
        sections.append(
            _Section(heading, body, tuple(" ".join(h.words) for h in open_headings[:-1]))
        )
    return sections


@dataclass(frozen=True)
class SectionChange:
    """One section that changed: its heading, how much changed, and the changed blocks in context."""

    number: int
    kind: str  # "changed", "added", "removed"
    heading: str
    heading_html: SafeString
    path: tuple[str, ...]
    anchor: str
    added: int
    removed: int
    html: SafeString
    coarse: bool  # a block was too long for a word diff and is shown whole

    @property
    def id(self) -> str:
        return f"endring-{self.number}"

    @property
    def count_label(self) -> str:
        """How much changed, in words: "3 ord lagt til, 1 fjernet"."""
        if self.added and self.removed:
            return _("%(added)s ord lagt til, %(removed)s fjernet") % {
                "added": self.added,
                "removed": self.removed,
            }
        if self.added:
            return _("%(added)s ord lagt til") % {"added": self.added}
        if self.removed:
            return _("%(removed)s ord fjernet") % {"removed": self.removed}
        return _("bare rekkefølgen er endret")


@dataclass(frozen=True)
class SectionDiff:
    sections: list[SectionChange]
    sections_total: int
    added: int
    removed: int

    @property
    def unchanged(self) -> bool:
        return not self.sections


class _Budget:
    def __init__(self, words: int):
        self.words = words
        self.coarse = False

    def take(self, old: tuple[str, ...], new: tuple[str, ...]) -> bool:
        size = len(old) + len(new)
        if size > BLOCK_WORD_CAP or size > self.words:
            self.coarse = True
            return False
        self.words -= size
        return True


def _mark(kind: str, words) -> str:
    text = escape(" ".join(words))
    if kind == "ins":
        return f'<ins class="diff-ins">{_spoken(_("Lagt til:"))}{text}</ins>'
    if kind == "del":
        return f'<del class="diff-del">{_spoken(_("Fjernet:"))}{text}</del>'
    return text


def _inline_diff(
    old: tuple[str, ...], new: tuple[str, ...], budget: _Budget
) -> tuple[str, int, int]:
    """The words of one block pair with <ins>/<del>, and the counts; whole blocks past the caps."""
    if not budget.take(old, new):
        return f"{_mark('del', old)} {_mark('ins', new)}", len(new), len(old)
    pieces: list[str] = []
    added = removed = 0
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            pieces.append(_mark("equal", new[j1:j2]))
            continue
        if i2 > i1:
            pieces.append(_mark("del", old[i1:i2]))
            removed += i2 - i1
        if j2 > j1:
            pieces.append(_mark("ins", new[j1:j2]))
            added += j2 - j1
    return " ".join(pieces), added, removed


def _alike(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """At least half of the distinct words in common (set operations: linear and in C)."""
    first, second = set(a), set(b)
    return bool(first and second) and len(first & second) >= 0.5 * max(len(first), len(second))


def _pair(old: list, new: list, words, *, one_to_one: bool = False) -> list[tuple]:
    """Pair the items of a replaced range in order, each with the next one nearly alike.

    Unpaired items come back as (item, None) (removed) or (None, item) (added). With `one_to_one`,
    a single item replaced by a single item is always a pair (a paragraph edited in place).
    """
    if one_to_one and len(old) == len(new) == 1:
        return [(old[0], new[0])]
    pairs: list[tuple] = []
    j = 0
    for item in old:
        # Look a few items ahead for one with mostly the same words.
        found = next(
            (k for k in range(j, min(j + 5, len(new))) if _alike(words(item), words(new[k]))),
            None,
        )
        if found is None:
            pairs.append((item, None))
            continue
        pairs.extend((None, b) for b in new[j:found])
        pairs.append((item, new[found]))
        j = found + 1
    pairs.extend((None, b) for b in new[j:])
    return pairs


def _render_blocks(rows: list[tuple[Block, str] | None]) -> str:
    """Blocks with their diff HTML, lists kept as lists; None is a gap of unchanged text."""
    out: list[str] = []
    open_list: tuple[str, int] | None = None

    def close_list():
        nonlocal open_list
        if open_list is not None:
            out.append(f"</{open_list[0]}>")
            open_list = None

    for row in rows:
        if row is None:
            close_list()
            out.append(
                '<p class="diff-gap"><span aria-hidden="true">…</span>'
                f"{_spoken(_('Uendret tekst er utelatt.'), space='')}</p>"
            )
            continue
        block, content = row
        if block.tag == "li" and block.list_tag:
            wanted = (block.list_tag, block.depth)
            if open_list != wanted:
                close_list()
                start = (
                    f' start="{block.number}"'
                    if block.list_tag == "ol" and block.number > 1
                    else ""
                )
                indent = f' class="diff-depth-{min(block.depth, 4)}"' if block.depth > 1 else ""
                out.append(f"<{block.list_tag}{start}{indent}>")
                open_list = wanted
            out.append(f"<li>{content}</li>")
        else:
            close_list()
            tag = "pre" if block.tag == "pre" else "p"
            out.append(f"<{tag}>{content}</{tag}>")
    close_list()
    return "".join(out)


def _section_body(old: _Section | None, new: _Section | None, budget: _Budget):
    """The changed blocks of one section with a little context, and the word counts."""
    old_blocks = old.blocks if old else []
    new_blocks = new.blocks if new else []
    rows: list[tuple[Block, str] | None] = []
    changed_at: list[int] = []
    added = removed = 0
    matcher = difflib.SequenceMatcher(
        None, [b.key for b in old_blocks], [b.key for b in new_blocks], autojunk=False
    )
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            rows.extend((b, escape(" ".join(b.words))) for b in new_blocks[j1:j2])
            continue
        for a, b in _pair(old_blocks[i1:i2], new_blocks[j1:j2], lambda b: b.words, one_to_one=True):
            changed_at.append(len(rows))
            if a is not None and b is not None:
                content, plus, minus = _inline_diff(a.words, b.words, budget)
                rows.append((b, content))
            elif b is not None:
                content, plus, minus = _mark("ins", b.words), len(b.words), 0
                rows.append((b, content))
            else:
                content, plus, minus = _mark("del", a.words), 0, len(a.words)
                rows.append((a, content))
            added += plus
            removed += minus
    keep = {
        i
        for at in changed_at
        for i in range(at - CONTEXT_BLOCKS, at + CONTEXT_BLOCKS + 1)
        if 0 <= i < len(rows)
    }
    shown: list[tuple[Block, str] | None] = []
    for i, row in enumerate(rows):
        if i in keep:
            shown.append(row)
        elif shown[-1:] != [None]:
            shown.append(None)
    return _render_blocks(shown), added, removed


def _compare_sections(old_html: str, new_html: str) -> SectionDiff:
    old_sections = _sections_of(blocks_of(old_html))
    new_sections = _sections_of(blocks_of(new_html))
    budget = _Budget(WORD_BUDGET)
    changes: list[SectionChange] = []
    pairs: list[tuple[_Section | None, _Section | None]] = []
    matcher = difflib.SequenceMatcher(
        None, [s.anchor for s in old_sections], [s.anchor for s in new_sections], autojunk=False
    )
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        olds, news = old_sections[i1:i2], new_sections[j1:j2]
        if op == "equal":
            pairs.extend(zip(olds, news, strict=True))
            continue
        # A heading renamed in place pairs with its old self; what is left was added or removed.
        pairs.extend(_pair(olds, news, _Section.words))
    for old, new in pairs:
        old_heading = old.heading.words if old and old.heading else ()
        new_heading = new.heading.words if new and new.heading else ()
        if (
            old is not None
            and new is not None
            and old_heading == new_heading
            and old.keys == new.keys
        ):
            continue
        body, added, removed = _section_body(old, new, budget)
        shown = new or old
        if old is not None and new is not None:
            kind = "changed"
            if old_heading != new_heading:
                heading_html, plus, minus = _inline_diff(old_heading, new_heading, budget)
                added, removed = added + plus, removed + minus
            else:
                heading_html = escape(" ".join(new_heading))
        elif new is not None:
            kind, heading_html = "added", escape(" ".join(new_heading))
            added += len(new_heading)
        else:
            kind, heading_html = "removed", escape(" ".join(old_heading))
            removed += len(old_heading)
        heading = " ".join(new_heading or old_heading) or "Innledning"
        changes.append(
            SectionChange(
                number=len(changes) + 1,
                kind=kind,
                heading=heading,
                heading_html=mark_safe(heading_html or escape(heading)),  # noqa: S308 - escaped.
                path=shown.path,
                anchor=shown.anchor,
                added=added,
                removed=removed,
                html=mark_safe(body),  # noqa: S308 - every word is escaped.
                coarse=budget.coarse,
            )
        )
        budget.coarse = False
    return SectionDiff(
        sections=changes,
        sections_total=len(new_sections),
        added=sum(c.added for c in changes),
        removed=sum(c.removed for c in changes),
    )


def section_diff(old_html: str, new_html: str) -> SectionDiff:
    """Only the sections that changed from `old_html` to `new_html`, cached per pair of texts.

    The key is the texts' hashes, so a published pair is computed once for everyone and a draft
    is computed again only after it changed.
    """
    from django.core.cache import cache

    digest = hashlib.sha256()
    for text in (old_html, new_html):
        digest.update(hashlib.sha256(text.encode()).digest())
    # The screen-reader words inside are in the interface's language: one entry per language.
    key = f"section-diff:{_CACHE_VERSION}:{translation.get_language()}:{digest.hexdigest()}"
    found = cache.get(key)
    if found is None:
        found = _compare_sections(old_html, new_html)
        cache.set(key, found, CACHE_SECONDS)
    return found
