"""The product's one way of writing dates and times, for pages, exports, e-mail and messages.

Dates are written 26.11.2026 and moments 26.11.2026 kl. 10.44 (Norwegian time), everywhere and for
every role (see the glossary in README). Templates use the filters `dato` and `tidspunkt`
(policies/templatetags/formats.py, loaded as a builtin).
"""

from __future__ import annotations

import datetime

from django.utils import timezone


def date_text(value: datetime.date | datetime.datetime | None) -> str:
    """26.11.2026; a moment is first turned into Norwegian local time."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{value.day:02d}.{value.month:02d}.{value.year}"


def datetime_text(value: datetime.datetime | None, zone: datetime.tzinfo | None = None) -> str:
    """26.11.2026 kl. 10.44 in Norwegian local time (`zone`: the current time zone, looked up
    once by a caller that formats many)."""
    if value is None:
        return ""
    if timezone.is_aware(value):
        local = value.astimezone(zone) if zone is not None else timezone.localtime(value)
    else:
        local = value
    return f"{date_text(local.date())} kl. {local.hour:02d}.{local.minute:02d}"
