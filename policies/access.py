"""Who may see what: every view fetches its objects through these, so access is checked by object."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from people.models import Organisation, Unit

from .dashboards import Scope
from .models import Policy, PolicyVersion, Status, Visibility


class NeedsLogin(Exception):
    """The object exists but only a logged-in person of the right organisation may see it."""


def get_organisation(slug: str) -> Organisation:
    """The organisation at /<org>/, or 404; every organisation's handbook page exists."""
    return get_object_or_404(Organisation, slug=slug)


def get_readable_policy(user, org_slug: str, policy_slug: str, *, stamped: bool = False) -> Policy:
    """The policy at /<org>/<policy>/ if this person may read it.

    An internal policy asks an anonymous visitor to log in, and is a 404 for someone of another
    organisation, so that its existence does not leak. `stamped`: with its audit events counted
    (`events_seen`, `last_event`), for the key of its cached page (policies.pageparts).
    """
    found = Policy.objects.filter(organisation__slug=org_slug, slug=policy_slug)
    readable = found.readable_by(user).select_related("organisation")
    if stamped:
        readable = readable.with_event_stamp()
    policy = readable.first()
    if policy is not None:
        return policy
    if not user.is_authenticated and found.exists():
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


# --- Editors -----------------------------------------------------------------------------------
# An editor writes for their own organisation only. Everything of another organisation is a 404,
# so that even the existence of an internal draft does not leak; superusers may edit everywhere.


def is_editor(user) -> bool:
    """Has this person the editor role (or is a superuser), and an active account?"""
    return user.is_authenticated and user.is_active and (user.is_superuser or user.is_editor)


def may_edit(user, organisation_id: int) -> bool:
    """May this person edit the policies of this organisation?"""
    if not is_editor(user):
        return False
    return user.is_superuser or user.organisation_id == organisation_id


def editor_required(view):
    """Anonymous visitors log in first; people without the editor role get 403."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_editor(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def get_editable_organisation(user, org_slug: str) -> Organisation:
    """The organisation at `org_slug` if this person may edit its policies, else 404."""
    organisation = get_object_or_404(Organisation, slug=org_slug)
    if not may_edit(user, organisation.pk):
        raise Http404
    return organisation


def get_editable_policy(user, org_slug: str, policy_slug: str) -> Policy:
    """The policy at /redaksjon/<org>/<policy>/ if this person may edit it, else 404."""
    policy = get_object_or_404(
        Policy.objects.select_related("organisation", "based_on__policy__organisation"),
        organisation__slug=org_slug,
        slug=policy_slug,
    )
    if not may_edit(user, policy.organisation_id):
        raise Http404
    return policy


def get_editable_draft(user, org_slug: str, policy_slug: str) -> tuple[Policy, PolicyVersion]:
    """The open draft of an editable policy, or 404 when there is none."""
    policy = get_editable_policy(user, org_slug, policy_slug)
    draft = policy.versions.drafts().first()
    if draft is None:
        raise Http404
    return policy, draft


def get_reusable_version(user, org_slug: str, policy_slug: str) -> PolicyVersion:
    """The current version of a public policy of another organisation, to start from."""
    policy = get_object_or_404(
        Policy.objects.select_related("organisation").active(),
        organisation__slug=org_slug,
        slug=policy_slug,
        visibility=Visibility.PUBLIC,
    )
    if not is_editor(user):
        raise PermissionDenied
    return get_object_or_404(policy.versions.current().select_related("policy__organisation"))


# --- Managers: /oversikt/ -------------------------------------------------------------------


def manager_scope(user) -> Scope:
    """The people this manager may see, as a dashboards.Scope; 403 for anyone who manages nothing.

    Managed units bring their sub-units along; `sees_whole_organisation` (HR, the chief executive)
    sees the whole organisation. Nobody sees another organisation, superusers included: they use
    the admin.
    """
    if not user.is_authenticated or not user.is_active or not user.organisation_id:
        raise PermissionDenied
    if user.sees_whole_organisation:
        return Scope(organisation_id=user.organisation_id)
    paths = tuple(
        user.managed_units.filter(organisation_id=user.organisation_id).values_list(
            "path", flat=True
        )
    )
    if not paths:
        raise PermissionDenied
    # A unit inside another managed unit adds nothing; keep the outermost ones.
    outermost = tuple(p for p in paths if not any(p != q and p.startswith(q) for q in paths))
    return Scope(organisation_id=user.organisation_id, unit_paths=outermost)


def visible_units(user, scope: Scope | None = None) -> QuerySet[Unit]:
    """Every unit this manager may see: their managed units with sub-units, or the whole organisation.

    `scope`, when the caller already has it from manager_scope(user), saves a query.
    """
    return (scope or manager_scope(user)).units()


def get_managed_unit(user, unit_id: int, scope: Scope | None = None) -> Unit:
    """A unit this manager may see, or 404 (so that other units' existence does not leak)."""
    return get_object_or_404(visible_units(user, scope), pk=unit_id)


def get_managed_policy(user, slug: str, scope: Scope | None = None) -> Policy:
    """A policy in force of the manager's own organisation, or 404."""
    scope = scope or manager_scope(user)
    return get_object_or_404(
        Policy.objects.active().select_related("organisation"),
        organisation_id=scope.organisation_id,
        slug=slug,
    )


def may_see_image(user, url: str) -> bool:
    """An uploaded image is shown to whoever may read a policy whose published text uses it, and
    to editors who may edit a policy whose text (a draft too) uses it. An image no text uses yet
    (just uploaded, in an editor's preview) is for editors only."""
    uses = PolicyVersion.objects.filter(body__contains=url)
    if Policy.objects.readable_by(user).filter(versions__in=uses.published()).exists():
        return True
    if not (user.is_authenticated and (user.is_editor or user.is_superuser)):
        return False
    if user.is_superuser or not uses.exists():
        return True
    return uses.filter(policy__organisation_id=user.organisation_id).exists()
