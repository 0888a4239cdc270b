"""`current_page`: marks the main menu's link to the part of the site being shown (a builtin)."""

from django import template
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag(takes_context=True)
def current_page(context, prefix: str, exact: bool = False) -> str:
    """' aria-current="page"' when the request is for `prefix` (or below it, unless `exact`)."""
    request = context.get("request")
    if request is None:
        return ""
    path = request.path
    hit = path == prefix if exact else path.startswith(prefix)
    # A fixed attribute, nothing from the request: safe from escaping, or it arrives as text.
    return mark_safe(' aria-current="page"') if hit else ""  # noqa: S308


@register.simple_tag(takes_context=True)
def page_kommune(context):
    """The kommune whose look the page wears: the one it is about, else the reader's own.

    Costs no query: the page's organisation is in its context, and the reader's is loaded for the
    main menu anyway.
    """
    if context.get("error_page"):
        return None  # a 500 or 503 may be the database failing: ask it nothing
    organisation = context.get("organisation")
    if organisation:
        return organisation
    user = context.get("user")
    if user is not None and user.is_authenticated:
        return user.organisation
    return None
