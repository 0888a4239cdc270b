"""A readable word-level difference between two versions of a policy.

Works on the words of the rendered (sanitised) HTML, block by block, so Markdown syntax never shows
up as a change. Inserted and deleted words are marked with <ins>/<del> and a visually hidden
"Lagt til:"/"Fjernet:" so that screen readers announce them too.
"""

from __future__ import annotations

import difflib
import html
import re
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

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
                    f'<ins class="diff-ins"><span class="ds-sr-only">Lagt til: </span>{text}</ins>'
                )
            elif kind == "del":
                paragraphs[-1].append(
                    f'<del class="diff-del"><span class="ds-sr-only">Fjernet: </span>{text}</del>'
                )
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


def word_diff(old_html: str, new_html: str) -> Diff:
    """The difference from `old_html` to `new_html` as HTML with <ins>/<del>."""
    old, new = words_of(old_html), words_of(new_html)
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    runs: list[tuple[str, list[str]]] = []
    added = removed = 0
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
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
