"""Who may see what: every view fetches its objects through these, so access is checked by object."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import get_object_or_404

from .models import Organisation, Policy, PolicyVersion, Status, Visibility


class NeedsLogin(Exception):
    """The object exists but only a logged-in person of the right organisation may see it."""


def may_read(user, policy: Policy) -> bool:
    """Public policies are for everyone; internal ones for the organisation's own people."""
    if policy.visibility == Visibility.PUBLIC:
        return True
    if not user.is_authenticated:
        return False
    return user.is_superuser or user.organisation_id == policy.organisation_id


def get_organisation(slug: str) -> Organisation:
    return get_object_or_404(Organisation, slug=slug)


def get_readable_policy(user, org_slug: str, policy_slug: str) -> Policy:
    """The policy at /<org>/<policy>/ if this person may read it.

    An internal policy asks an anonymous visitor to log in, and is a 404 for someone of another
    organisation, so that its existence does not leak.
    """
    policy = get_object_or_404(
        Policy.objects.select_related("organisation"),
        organisation__slug=org_slug,
        slug=policy_slug,
    )
    if may_read(user, policy):
        return policy
    if not user.is_authenticated:
        raise NeedsLogin
    raise Http404


def get_readable_version(policy: Policy, number: int) -> PolicyVersion:
    """A version that has been in force. Drafts and scheduled versions are not for readers."""
    return get_object_or_404(
        policy.versions.filter(status__in=[Status.PUBLISHED, Status.SUPERSEDED]), number=number
    )


def login_redirect(view):
    """Turn NeedsLogin raised while fetching objects into a redirect to /logg-inn/?next=..."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NeedsLogin:
            return redirect_to_login(request.get_full_path())

    return wrapper
