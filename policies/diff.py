"""Word-level comparison of two texts, for editors comparing a draft with what is live."""

from __future__ import annotations

import difflib
import re

from django.utils.html import escape

# Words and the whitespace between them are both tokens, so the output keeps the text's line breaks.
_TOKEN = re.compile(r"\s+|[^\s]+")


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.replace("\r\n", "\n"))


def word_diff_html(old_text: str, new_text: str) -> str:
    """The new text with words added marked <ins> and words removed marked <del>.

    Every piece of text is escaped; screen readers hear "Lagt til:" and "Fjernet:" before each change
    because colour and strike-through alone do not reach them.
    """
    old, new = _tokens(old_text), _tokens(new_text)
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    out: list[str] = []
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            out.append(escape("".join(new[b1:b2])))
            continue
        if op in ("delete", "replace"):
            out.append(
                '<del class="diff-del"><span class="ds-sr-only">Fjernet: </span>'
                f"{escape(''.join(old[a1:a2]))}</del>"
            )
        if op in ("insert", "replace"):
            out.append(
                '<ins class="diff-ins"><span class="ds-sr-only">Lagt til: </span>'
                f"{escape(''.join(new[b1:b2]))}</ins>"
            )
    return "".join(out)


def has_changes(old_text: str, new_text: str) -> bool:
    return _tokens(old_text) != _tokens(new_text)
