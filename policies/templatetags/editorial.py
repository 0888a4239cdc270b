"""Template helpers for editorial notes on the reading pages."""

from __future__ import annotations

from django import template
from django.template.loader import get_template
from django.utils.safestring import mark_safe

from ..access import is_editor, may_edit
from ..models import Visibility
from ..review import review_of

register = template.Library()


@register.simple_tag(takes_context=True)
def review_note(context, policy, version):
    """The discreet review-date note under a policy, and the editors' way in.

    Editors of the policy's organisation get a link to edit it; editors of another organisation get
    "Bruk som utgangspunkt" for a public policy. Most readers get neither, and then nothing is
    rendered (the template would give two line breaks).
    """
    user = context.get("user")
    editable = user is not None and may_edit(user, policy.organisation_id)
    reusable = (
        user is not None
        and not editable
        and is_editor(user)
        and user.organisation_id is not None
        and policy.visibility == Visibility.PUBLIC
    )
    # An overdue review date is the editors' and the owner's business; readers are not told that
    # the text "kan være utdatert".
    responsible = editable or (
        user is not None and user.pk is not None and user.pk == policy.owner_id
    )
    review = review_of(policy, version) if responsible and not policy.is_retired else None
    if not (editable or reusable or (review and review.due)):
        return ""
    values = {
        "policy": policy,
        "review": review,
        "editable": editable,
        "reusable": reusable,
        "user": user,
    }
    # As an inclusion tag renders: a new context of these values, the page's autoescaping.
    html = get_template("editorial/_review_note.html").template.render(context.new(values))
    return mark_safe(html)  # noqa: S308 - a rendered template
