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
