"""Receipts for confirmations: finding one by the reference printed on it."""

from __future__ import annotations

import re

from .models import Acknowledgement, receipt_check

_REFERENCE = re.compile(r"^\s*[Bb]?-?\s*(\d{1,12})\s*-\s*([0-9A-Fa-f]{6})\s*$")


def find(reference: str, *, organisation_id: int | None) -> Acknowledgement | None:
    """The confirmation a receipt's reference names, within one organisation (None for all).

    Returns None when the reference is malformed, unknown, fails its check or belongs to another
    organisation, so that a lookup never tells which of these it was.
    """
    match = _REFERENCE.match(reference or "")
    if match is None:
        return None
    acks = Acknowledgement.objects.select_related(
        "person", "person__unit", "version__policy__organisation"
    )
    if organisation_id is not None:
        acks = acks.filter(version__policy__organisation_id=organisation_id)
    ack = acks.filter(pk=int(match.group(1))).first()
    if ack is None or receipt_check(ack) != match.group(2).upper():
        return None
    return ack
