"""No nynorsk translation brings markup characters its bokmål original does not have.

{% translate %} output is not escaped, also where it stands inside an attribute
(data-uploaded="{% translate … %}"): a `"` a translator adds would end the attribute, and `<` or
`>` would open markup. Whatever the original has (a link in a blocktranslate) it may keep."""

from __future__ import annotations

import polib
from django.conf import settings

MARKUP = ('"', "<", ">")


def _pairs(entry):
    if entry.msgid_plural:
        for index, text in sorted(entry.msgstr_plural.items()):
            yield (entry.msgid if index == 0 else entry.msgid_plural), text
    else:
        yield entry.msgid, entry.msgstr


def added_markup(po: polib.POFile) -> list[str]:
    found = []
    for entry in po.translated_entries():
        for msgid, msgstr in _pairs(entry):
            for char in MARKUP:
                if msgstr.count(char) > msgid.count(char):
                    found.append(f"{char!r} in {msgstr[:80]!r} (from {msgid[:80]!r})")
    return found


def test_no_nynorsk_translation_adds_quotes_or_angle_brackets():
    path = settings.LOCALE_PATHS[0] / "nn" / "LC_MESSAGES" / "django.po"
    assert added_markup(polib.pofile(str(path))) == []


def test_the_check_finds_a_quote_the_original_does_not_have():
    po = polib.POFile()
    po.append(polib.POEntry(msgid="Lagre", msgstr='Lagre "no"'))
    po.append(polib.POEntry(msgid='<a href="%(url)s">Les</a>', msgstr='<a href="%(url)s">Les</a>'))
    po.append(polib.POEntry(msgid="Neste", msgstr="<b>Neste</b>"))
    found = added_markup(po)
    assert len(found) == 3, found
    assert all("Lagre" in f or "Neste" in f for f in found)
