"""Template helpers for the employee pages: query strings."""

from __future__ import annotations

from urllib.parse import urlencode

from django import template

register = template.Library()


@register.simple_tag
def query_string(params: dict, **changes) -> str:
    """`params` with `changes` applied, URL-encoded (escaped by the template)."""
    merged = {**params, **changes}
    return urlencode({k: v for k, v in merged.items() if v not in (None, "")})
