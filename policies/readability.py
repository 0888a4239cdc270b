"""Plain-language aid for editors (klarspråk): the LIX readability score of a body.

LIX = words / sentences + 100 * long words / words, where a long word has more than six letters.
The text is taken from the rendered HTML, so Markdown syntax never counts as words and every block
(heading, paragraph, list item, table cell) ends a sentence even without a full stop.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

LONG_WORD_LETTERS = 6
LONG_SENTENCE_WORDS = 25

# LIX bands as they are usually given in Scandinavian plain-language guidance.
BANDS = [
    (25, _("svært lettlest")),
    (35, _("lettlest")),
    (45, _("middels")),
    (55, _("vanskelig")),
]
HARDEST_BAND = _("svært vanskelig")

_BLOCK_END = re.compile(r"</(?:p|li|h[1-6]|td|th|blockquote|pre|tr)>|<br\s*/?>|<hr\s*/?>", re.I)
_TAG = re.compile(r"<[^>]+>")
_WORD = re.compile(r"[^\W\d_]+(?:[-'’.][^\W\d_]+)*|\d+(?:[.,]\d+)*")
# A sentence ends at . ! ? or : followed by whitespace (or the end of the block). "14.12.2015" and
# "3,5" are not sentence ends because no space follows the point.
_SENTENCE_END = re.compile(r"(?<=[.!?:])\s+")
# Common Norwegian abbreviations whose points do not end a sentence.
_ABBREVIATIONS = re.compile(
    r"\b(?:f\.eks|bl\.a|m\.m|m\.v|o\.l|osv|ca|dvs|jf|nr|kl|mht|evt|ev|pkt|ifm|iht|mao|t\.o\.m|f\.o\.m)\.",
    re.I,
)


@dataclass(frozen=True)
class Readability:
    words: int
    sentences: int
    long_words: int
    long_sentences: list[str] = field(default_factory=list)

    @property
    def score(self) -> int | None:
        """LIX rounded to a whole number; None for a text without words."""
        if not self.words or not self.sentences:
            return None
        return round(self.words / self.sentences + 100 * self.long_words / self.words)

    @property
    def band(self) -> str:
        score = self.score
        if score is None:
            return _("ingen tekst")
        for upper, label in BANDS:
            if score < upper:
                return label
        return HARDEST_BAND


def words_of(text: str) -> list[str]:
    return _WORD.findall(text)


def is_long(word: str) -> bool:
    return sum(ch.isalpha() for ch in word) > LONG_WORD_LETTERS


def sentences_of_text(text: str) -> list[str]:
    """Split plain text (one block) into sentences that contain at least one word."""
    protected = _ABBREVIATIONS.sub(lambda m: m.group(0).replace(".", "\u2024"), text)
    parts = _SENTENCE_END.split(protected)
    return [p.replace("\u2024", ".").strip() for p in parts if words_of(p)]


def blocks_of_html(fragment: str) -> list[str]:
    """The plain text of each block of a rendered HTML fragment."""
    pieces = _BLOCK_END.split(fragment)
    blocks = []
    for piece in pieces:
        text = re.sub(r"\s+", " ", html.unescape(_TAG.sub(" ", piece))).strip()
        if text:
            blocks.append(text)
    return blocks


def analyse_html(fragment: str) -> Readability:
    """LIX of rendered (sanitised) HTML."""
    return _analyse([s for block in blocks_of_html(fragment) for s in sentences_of_text(block)])


def _analyse(sentences: list[str]) -> Readability:
    words = 0
    long_words = 0
    long_sentences = []
    for sentence in sentences:
        sentence_words = words_of(sentence)
        words += len(sentence_words)
        long_words += sum(1 for w in sentence_words if is_long(w))
        if len(sentence_words) > LONG_SENTENCE_WORDS:
            long_sentences.append(sentence)
    return Readability(
        words=words, sentences=len(sentences), long_words=long_words, long_sentences=long_sentences
    )
