"""Invisible characters out of short texts: titles, names, notes.

A right-to-left override (U+202E) in a title makes "Retningslinje" display as something else in
every list, e-mail and export it appears in; zero-width and other format characters make two names
look the same. They are removed from titles, names, change notes and similar one-line or short
texts. Body text keeps them: bidi marks are legitimate in Arabic or Sámi examples, and it is
rendered and sanitised anyway.
"""

from __future__ import annotations

import unicodedata

from django import forms

# Line and paragraph separators behave as line breaks in some programs and as nothing in others.
_SEPARATORS = {"\u2028": " ", "\u2029": " "}


def _visible(character: str, *, keep: str) -> bool:
    if character in keep:
        return True
    # Cc: control characters (NUL, ESC, ...); Cf: format characters (bidi overrides, embeddings
    # and isolates, zero-width space and joiners, soft hyphen, byte order mark, ...).
    return unicodedata.category(character) not in ("Cc", "Cf")


def clean_line(value: str) -> str:
    """`value` without control or format characters, line breaks as spaces, trimmed."""
    value = "".join(_SEPARATORS.get(c, c) for c in value)
    value = value.replace("\r\n", " ").replace("\n", " ").replace("\r", " ").replace("\t", " ")
    return "".join(c for c in value if _visible(c, keep="")).strip()


def clean_text(value: str) -> str:
    """A short multi-line text (a change note) without control or format characters; line breaks
    and tabs stay, as \\n."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = "".join(_SEPARATORS.get(c, c) for c in value)
    return "".join(c for c in value if _visible(c, keep="\n\t")).strip()


class PlainTextField(forms.CharField):
    """A form field for a title, name or note: invisible characters are removed before any
    validation, so a value of only such characters counts as empty and lengths count what shows."""

    def __init__(self, *, multiline: bool = False, **kwargs):
        self.multiline = multiline
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        return clean_text(value) if self.multiline else clean_line(value)
