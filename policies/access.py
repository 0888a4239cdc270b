"""Who may see what: every view fetches its objects through these, so access is checked by object."""

from __future__ import annotations

import functools
from functools import wraps
from typing import NoReturn

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import FullResultSet, PermissionDenied
from django.db import connection
from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404, HttpResponsePermanentRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.cache import add_never_cache_headers

from people.models import Organisation, Unit

from .compliance import OBLIGATION_OF, OBLIGATION_OF_COLUMNS, obligation_from_row
from .dashboards import Scope
from .kept import Kept
from .models import (
    EVERY_ORGANISATION,
    FormerSlug,
    Obligation,
    Policy,
    PolicyVersion,
    Status,
    Visibility,
    internal_readers_scope,
)


class NeedsLogin(Exception):
    """The object exists but only a logged-in person of the right organisation may see it."""


class Moved(Http404):
    """The policy asked for by a former address (FormerSlug) is now at `slug`, and this person may
    read it. A view wrapped in login_redirect answers with a redirect there; anywhere else it is
    the 404 it derives from."""

    def __init__(self, slug: str):
        super().__init__()
        self.slug = slug


def get_organisation(slug: str) -> Organisation:
    """The organisation at /<org>/, or 404; every organisation's handbook page exists."""
    return get_object_or_404(Organisation, slug=slug)


def get_readable_policy(user, org_slug: str, policy_slug: str) -> Policy:
    """The policy at /<org>/<policy>/ if this person may read it.

    An internal policy asks an anonymous visitor to log in, and is a 404 for someone of another
    organisation, so that its existence does not leak. (The policy page itself reads it with
    get_readable_policy_page.)
    """
    found = _policy_at(org_slug, policy_slug)
    policy = found.readable_by(user).select_related("organisation").first()
    if policy is not None:
        return policy
    _not_readable(user, org_slug, policy_slug)


def _policy_at(org_slug: str, policy_slug: str) -> QuerySet:
    return Policy.objects.filter(organisation__slug=org_slug, slug=policy_slug)


def _not_readable(user, org_slug: str, policy_slug: str) -> NoReturn:
    """Refuse the policy at /<org>/<policy>/ that `user` may not read: log in first if it exists,
    else 404. At a former address of a policy (and nobody's current one), Moved for someone who
    may read the policy; for anyone else the answer its address now would give them (log in, or
    404), without naming that address."""
    if not user.is_authenticated and _policy_at(org_slug, policy_slug).exists():
        raise NeedsLogin
    moved = (
        FormerSlug.objects.filter(organisation__slug=org_slug, slug=policy_slug)
        # A policy at this address now wins over one that had it.
        .exclude(
            Exists(
                Policy.objects.filter(organisation=OuterRef("organisation"), slug=OuterRef("slug"))
            )
        )
        .annotate(readable=Exists(Policy.objects.readable_by(user).filter(pk=OuterRef("policy"))))
        .values_list("policy__slug", "readable")
        .first()
    )
    if moved is None:
        raise Http404
    slug, readable = moved
    if readable:
        raise Moved(slug)
    if not user.is_authenticated:
        # As the policy's address would answer; the login page returns to this one, which leads
        # on to the policy once the person may read it.
        raise NeedsLogin
    raise Http404


def get_readable_policy_page(
    user, org_slug: str, policy_slug: str
) -> tuple[Policy, Obligation | None]:
    """For the policy page: the policy at /<org>/<policy>/ if this person may read it (refused
    as get_readable_policy refuses), with its organisation and its audit-event stamp (`events_seen`,
    `last_event`, for the key of its cached page, policies.pageparts), and this person's
    obligation for it (as compliance.obligation_for gives it; None for an anonymous reader), all
    in one statement.

    It is the page people open most, and building its statements with the ORM cost
    more than running them; so the statement is written out here once, around readable_by's
    query (the one rule of who may read), which is compiled once per process for each reader
    scope (`_readable`).
    """
    readable, readable_params = _readable(user)
    with connection.cursor() as cursor:
        cursor.execute(
            _policy_page_sql(readable), [user.pk, org_slug, policy_slug, *readable_params]
        )
        row = cursor.fetchone()
    if row is None:
        _not_readable(user, org_slug, policy_slug)
    policy_fields, organisation_fields = _POLICY_PAGE_FIELDS
    stamp = len(policy_fields) + len(organisation_fields)
    policy = Policy.from_db(connection.alias, policy_fields, row[: len(policy_fields)])
    organisation = Organisation.from_db(
        connection.alias, organisation_fields, row[len(policy_fields) : stamp]
    )
    # As select_related("organisation") would.
    Policy.organisation.field.set_cached_value(policy, organisation)
    policy.events_seen, policy.last_event = row[stamp], row[stamp + 1]
    return policy, obligation_from_row(row[stamp + 2 :], policy)


def _readable(user) -> tuple[str, tuple]:
    """readable_by's condition for `user`, on the policies table itself, and its parameters.

    readable_by depends on the reader only through internal_readers_scope: its compiled condition
    is kept per process for each such scope (as in policies.search). Taken as the WHERE of its
    query, it costs the statement no second pass over the policies; should the rule ever need a
    join, it stays the query it is (an IN over the ids it gives).
    """
    internal = internal_readers_scope(user)
    key = "every" if internal is EVERY_ORGANISATION else internal
    return _readable_conditions.get_or_make(key, lambda: _readable_condition(user))


def _readable_condition(user) -> tuple[str, tuple]:
    query = Policy.objects.readable_by(user).order_by().values("pk").query
    if {alias for alias, count in query.alias_refcount.items() if count} != {_TABLE}:
        sql, params = query.sql_with_params()
        return f"{_POLICY}.id IN ({sql})", tuple(params)
    try:
        sql, params = query.get_compiler(connection=connection).compile(query.where)
    except FullResultSet:
        return "TRUE", ()
    return sql, tuple(params)


# One per reader scope: every organisation's own, the public, everything.
_readable_conditions = Kept(1024)
_TABLE = Policy._meta.db_table
_POLICY = connection.ops.quote_name(_TABLE)

_POLICY_PAGE_FIELDS = (
    [f.attname for f in Policy._meta.concrete_fields],
    [f.attname for f in Organisation._meta.concrete_fields],
)


@functools.lru_cache(maxsize=64)
def _policy_page_sql(readable: str) -> str:
    """get_readable_policy_page's statement with `readable` (readable_by's condition on the
    policies table, `_readable`). Parameters: the person, the two slugs, then `readable`'s own.

    Its columns: the policy's and the organisation's (in _POLICY_PAGE_FIELDS' order), the stamp,
    then the obligation's (compliance.OBLIGATION_OF_COLUMNS, all NULL when there is none). The
    stamp counts the policy's audit events and takes the newest one's id: the events are
    append-only and written with every change a reader can see, so it changes with every such
    change that commits, whatever order concurrent transactions commit in.
    """
    # The policies table keeps its own name (no alias): readable_by's condition names it so.
    p = _POLICY
    policy = ", ".join(f'{p}."{f.column}"' for f in Policy._meta.concrete_fields)
    organisation = ", ".join(f'o."{f.column}"' for f in Organisation._meta.concrete_fields)
    obligation = OBLIGATION_OF.format(policy=f"{p}.id")
    return f"""
        SELECT {policy}, {organisation}, stamp.events_seen, stamp.last_event, obligation.*
        FROM {p}
        JOIN people_organisation o ON o.id = {p}.organisation_id
        CROSS JOIN LATERAL (
            SELECT count(*) AS events_seen, max(e.id) AS last_event
            FROM policies_event e WHERE e.policy_id = {p}.id
        ) stamp
        LEFT JOIN LATERAL (
            SELECT {OBLIGATION_OF_COLUMNS} FROM {obligation}
        ) obligation ON true
        WHERE o.slug = %s AND {p}.slug = %s AND ({readable})
    """  # noqa: S608 - model columns and readable_by's compiled condition, no input


def get_readable_version(policy: Policy, number: int) -> PolicyVersion:
    """A version that has been in force. Drafts and scheduled versions are not for readers."""
    return get_object_or_404(
        policy.versions.filter(status__in=[Status.PUBLISHED, Status.SUPERSEDED]), number=number
    )


def login_redirect(view):
    """Turn NeedsLogin raised while fetching objects into a redirect to /logg-inn/?next=..., and
    Moved into a permanent redirect to the same page at the policy's address now."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NeedsLogin:
            return redirect_to_login(request.get_full_path())
        except Moved as moved:
            return moved_redirect(request, moved.slug)

    return wrapper


class _PermanentRedirectKeepingMethod(HttpResponsePermanentRedirect):
    # 308: a form sent to the old address (a confirmation) is sent again, as it was, to the new one.
    status_code = 308


def moved_redirect(request, slug: str) -> HttpResponsePermanentRedirect:
    """This request's page (and query string) at the policy's address `slug`: 301, or 308 for
    anything but GET and HEAD."""
    match = request.resolver_match
    location = reverse(match.view_name, kwargs={**match.kwargs, "policy_slug": slug})
    if request.META.get("QUERY_STRING"):
        location += "?" + request.META["QUERY_STRING"]
    if request.method in ("GET", "HEAD"):
        response = HttpResponsePermanentRedirect(location)
    else:
        response = _PermanentRedirectKeepingMethod(location)
    # Permanent for search engines and links, but not to be remembered by a browser or nginx: the
    # address may be a policy's own again (changed back, or taken by another policy), and a
    # remembered redirect would then lead away from it, or in a circle.
    add_never_cache_headers(response)
    return response


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
