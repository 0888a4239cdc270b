"""Filters for e-mail templates rendered by the worker from a JSON context (outbox.delivery)."""

from __future__ import annotations

import datetime

from django import template

register = template.Library()


@register.filter
def isodate(value: str) -> datetime.date | str:
    """A date stored in the JSON context ("2026-12-01") as a date again, for the `date` filter."""
    try:
        return datetime.date.fromisoformat(value)
    except (TypeError, ValueError):
        return value
