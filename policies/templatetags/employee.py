"""Template helpers for the employee pages: query strings and the confirmation block."""

from __future__ import annotations

from urllib.parse import urlencode

from django import template

from ..compliance import obligation_for

register = template.Library()


@register.simple_tag
def query_string(params: dict, **changes) -> str:
    """`params` with `changes` applied, URL-encoded (escaped by the template)."""
    merged = {**params, **changes}
    return urlencode({k: v for k, v in merged.items() if v not in (None, "")})


@register.inclusion_tag("employee/_confirmation.html", takes_context=True)
def confirmation(context, policy, version):
    """The "Jeg har lest og forstått" block at the end of a current policy.

    Only for a logged-in person in the policy's audience; everyone else gets nothing, and an
    anonymous reader costs no query at all.
    """
    user = context["user"]
    obligation = None
    if user.is_authenticated and version.is_current and not policy.is_retired:
        obligation = obligation_for(user, policy)
    return {
        "obligation": obligation,
        "policy": policy,
        "version": version,
        "csrf_token": context.get("csrf_token"),
    }
