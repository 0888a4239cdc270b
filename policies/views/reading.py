"""Pages for readers: the organisations, an organisation's handbook, a policy and its versions."""

from __future__ import annotations

from django.contrib.postgres.aggregates import JSONBAgg
from django.db.models import OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import JSONObject
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from people.models import Organisation

from .. import pageparts
from ..access import (
    get_organisation,
    get_readable_policy,
    get_readable_policy_page,
    login_redirect,
)
from ..compliance import obligation_for
from ..models import Policy, PolicyVersion, Resource, Section, Status, may_read_internal
from ..translations import (
    requested_language,
    shown_text,
    shown_title,
    translated_title,
    with_translated_languages,
)


def organisation_list(request):
    """The front page for visitors who are not logged in."""
    organisations = Organisation.objects.all()
    return render(
        request,
        "reading/organisation_list.html",
        {"organisations": organisations, "resources": Resource.objects.all()},
    )


def organisation_handbook(request, org_slug: str):
    """`/<org>/`: the policies in force that this reader may read."""
    organisation = get_organisation(org_slug)
    language = get_language()
    # Each policy named as its page names it: by its translation into the interface's målform
    # when the current version has one, read with the versions.
    current = PolicyVersion.objects.current().annotate(translated_title=translated_title(language))
    policies = (
        Policy.objects.filter(organisation=organisation)
        .active()
        .readable_by(request.user)
        # Each row's address names the kommune: read with the policies, not once per row.
        .select_related("organisation")
        .prefetch_related(Prefetch("versions", queryset=current, to_attr="current_versions"))
        .order_by("title")
    )
    rows = [
        (policy, version, _title_of(policy, version, language))
        for policy in policies
        for version in policy.current_versions[:1]
    ]
    return render(
        request,
        "reading/organisation_handbook.html",
        {
            "organisation": organisation,
            "rows": rows,
            "resources": Resource.objects.all(),
            "may_see_internal": may_read_internal(request.user, organisation.pk),
        },
    )


def _title_of(policy: Policy, version: PolicyVersion, language: str):
    return shown_title(
        original=policy.title,
        original_language=version.language,
        translated=version.translated_title,
        wanted=language,
    )


def _versions_of(policy: Policy) -> list[PolicyVersion]:
    """The versions a reader may see, newest first, as they stand today.

    A scheduled version whose date has come is shown as the current one even before the scheduled
    job (`activate_scheduled`) has made it so. Reading never writes or takes a lock: the statuses
    are changed on these instances only, which are shown and never saved. Until the job has run,
    such a version is marked `awaiting_activation` and cannot be confirmed yet.
    """
    today = timezone.localdate()
    versions = list(
        with_translated_languages(
            policy.versions.filter(
                Q(status__in=[Status.PUBLISHED, Status.SUPERSEDED])
                | Q(status=Status.SCHEDULED, effective_from__lte=today)
            )
        )
        .annotate(toc=_table_of_contents())
        .order_by("-number")
    )
    if versions and versions[0].status == Status.SCHEDULED:
        for earlier in versions[1:]:
            if earlier.status == Status.PUBLISHED:
                earlier.status = Status.SUPERSEDED
        versions[0].status = Status.PUBLISHED
        versions[0].awaiting_activation = True
    return versions


def _table_of_contents() -> Subquery:
    """A version's headings below the title (anchor, heading, level), in order, as one JSON
    value: read with the versions, so a policy page needs no query of its own for them."""
    headings = (
        Section.objects.filter(version=OuterRef("pk"), level__gte=2)
        .order_by()
        .values("version")
        .annotate(
            toc=JSONBAgg(
                JSONObject(anchor="anchor", heading="heading", level="level"),
                order_by="position",
            )
        )
        .values("toc")
    )
    return Subquery(headings)


def _page_context(request, policy: Policy, version: PolicyVersion, versions, **extra) -> dict:
    """What a policy page shows to every reader (the personal parts are added by the caller)."""
    # The text in the målform asked for (?sprak=) or the interface's, when this version has it.
    text = shown_text(
        version,
        wanted=requested_language(request.GET.get("sprak")),
        interface=get_language(),
        versions=versions,
    )
    return {
        "organisation": policy.organisation,
        "policy": policy,
        "version": version,
        "versions": versions,
        "current": next((v for v in versions if v.status == Status.PUBLISHED), None),
        "text": text,
        # The original's headings come with the versions; a translation shown reads its own.
        "toc": text.sections() if text.is_translation else (version.toc or []),
        **extra,
    }


def _confirmable(policy: Policy, version: PolicyVersion) -> bool:
    """May the "Jeg har lest og forstått" block be shown: the version in force, once active."""
    return version.is_current and not getattr(version, "awaiting_activation", False)


def _obligation(request, policy: Policy, confirmable: bool):
    # Only for a logged-in person in the audience, on the version in force; an anonymous reader
    # costs no query for it.
    if request.user.is_authenticated and confirmable and not policy.is_retired:
        return obligation_for(request.user, policy)
    return None


def _policy_page(request, policy: Policy, version: PolicyVersion, versions, template: str, **extra):
    context = _page_context(request, policy, version, versions, **extra)
    context["obligation"] = _obligation(request, policy, _confirmable(policy, version))
    return render(request, template, context)


# The policy page from the shared cache, with the reader's own parts rendered around it
# (policies.pageparts): for everyone, signed in or not, so that a page the anonymous page cache
# does not hold (a målform asked for, another query string, a miss) is not rendered whole either.
# Tests turn it off to compare with the page rendered whole.
SHARED_PAGE = True


def _policy_page_from_parts(request, org_slug: str, policy_slug: str):
    policy, obligation = get_readable_policy_page(request.user, org_slug, policy_slug)
    page_key = pageparts.key(policy, requested_language(request.GET.get("sprak")))
    page = pageparts.get(page_key)
    if page is None:
        versions = _versions_of(policy)
        current = next((v for v in versions if v.status == Status.PUBLISHED), None)
        if current is None:
            return render(request, "404.html", status=404)
        page = pageparts.render_shared(
            _page_context(request, policy, current, versions),
            confirmable=_confirmable(policy, current),
        )
        pageparts.put(page_key, page)
    # Read with the policy, shown as _obligation shows it: on the version in force only.
    if not page.confirmable or policy.is_retired:
        obligation = None
    return pageparts.respond(request, page, policy=policy, obligation=obligation)


@login_redirect
def policy_detail(request, org_slug: str, policy_slug: str):
    """`/<org>/<policy>/`: the current version."""
    if SHARED_PAGE:
        return _policy_page_from_parts(request, org_slug, policy_slug)
    policy = get_readable_policy(request.user, org_slug, policy_slug)
    versions = _versions_of(policy)
    current = next((v for v in versions if v.status == Status.PUBLISHED), None)
    if current is None:
        return render(request, "404.html", status=404)
    return _policy_page(request, policy, current, versions, "reading/policy_detail.html")


@login_redirect
def version_detail(request, org_slug: str, policy_slug: str, number: int):
    """`/<org>/<policy>/versjon/<n>/`: one version that has been in force."""
    policy = get_readable_policy(request.user, org_slug, policy_slug)
    versions = _versions_of(policy)
    version = next((v for v in versions if v.number == number), None)
    if version is None:
        raise Http404(_("Ingen slik versjon."))
    return _policy_page(request, policy, version, versions, "reading/version_detail.html")


def resource_detail(request, slug: str):
    """`/ressurser/<slug>/`: a shared resource page."""
    resource = get_object_or_404(Resource, slug=slug)
    return render(request, "reading/resource_detail.html", {"resource": resource})
