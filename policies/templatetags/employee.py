"""Template helpers for the employee pages: query strings, the deadline banner and confirmation."""

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


def _obligation(context, policy, version):
    """The reader's obligation for a current policy, computed once per request.

    Anonymous readers, old versions and retired policies have none, and cost no query at all.
    """
    user = context["user"]
    if not user.is_authenticated or not version.is_current or policy.is_retired:
        return None
    request = context.get("request")
    found = getattr(request, "_handbook_obligations", None)
    if found is None:
        found = {}
        if request is not None:
            request._handbook_obligations = found
    if policy.pk not in found:
        found[policy.pk] = obligation_for(user, policy)
    return found[policy.pk]


@register.inclusion_tag("employee/_confirm_banner.html", takes_context=True)
def confirm_banner(context, policy, version, changes_page=False):
    """At the top of the text: the deadline, for someone who still has to confirm."""
    obligation = _obligation(context, policy, version)
    if obligation is not None and obligation.is_confirmed:
        obligation = None
    return {"obligation": obligation, "policy": policy, "changes_page": changes_page}


@register.inclusion_tag("employee/_confirmation.html", takes_context=True)
def confirmation(context, policy, version):
    """The "Jeg har lest og forstått" block at the end of a current policy, with the receipt."""
    return {
        "obligation": _obligation(context, policy, version),
        "policy": policy,
        "version": version,
        "messages": context.get("messages", ()),
        "csrf_token": context.get("csrf_token"),
    }
