"""Template helpers for editorial notes on the reading pages."""

from __future__ import annotations

from django import template

from ..access import is_editor, may_edit
from ..models import Visibility
from ..review import review_of

register = template.Library()


@register.inclusion_tag("editorial/_review_note.html", takes_context=True)
def review_note(context, policy, version):
    """The discreet review-date note under a policy, and the editors' way in.

    Editors of the policy's organisation get a link to edit it; editors of another organisation get
    "Bruk som utgangspunkt" for a public policy.
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
    return {
        "policy": policy,
        "review": review_of(policy, version) if responsible and not policy.is_retired else None,
        "editable": editable,
        "reusable": reusable,
        "user": user,
    }
