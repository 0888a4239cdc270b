"""Pages for readers: the organisations, an organisation's handbook, a policy and its versions."""

from __future__ import annotations

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, render

from people.models import Organisation

from ..access import get_organisation, get_readable_policy, get_readable_version, login_redirect
from ..models import Policy, PolicyVersion, Resource, Status
from ..workflow import activate_due_versions


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
    current = PolicyVersion.objects.current()
    policies = (
        Policy.objects.filter(organisation=organisation)
        .active()
        .readable_by(request.user)
        .prefetch_related(Prefetch("versions", queryset=current, to_attr="current_versions"))
        .order_by("title")
    )
    rows = [(p, p.current_versions[0]) for p in policies if p.current_versions]
    return render(
        request,
        "reading/organisation_handbook.html",
        {
            "organisation": organisation,
            "rows": rows,
            "resources": Resource.objects.all(),
            "may_see_internal": request.user.is_authenticated
            and (request.user.organisation_id == organisation.pk or request.user.is_superuser),
        },
    )


def _versions_of(policy: Policy) -> list[PolicyVersion]:
    """The versions a reader may see, newest first; a due scheduled version is activated on the way."""
    versions = list(
        policy.versions.filter(
            status__in=[Status.PUBLISHED, Status.SUPERSEDED, Status.SCHEDULED]
        ).order_by("-number")
    )
    if any(v.status == Status.SCHEDULED for v in versions):
        # Scheduled versions become current on their date even if the cron job has not run yet.
        if activate_due_versions(policy=policy):
            return _versions_of(policy)
        versions = [v for v in versions if v.status != Status.SCHEDULED]
    return versions


def _policy_page(request, policy: Policy, version: PolicyVersion, versions, template: str, **extra):
    sections = list(
        version.sections.filter(level__gte=2)
        .order_by("position")
        .values("anchor", "heading", "level")
    )
    context = {
        "organisation": policy.organisation,
        "policy": policy,
        "version": version,
        "versions": versions,
        "current": next((v for v in versions if v.status == Status.PUBLISHED), None),
        "toc": sections,
        **extra,
    }
    return render(request, template, context)


@login_redirect
def policy_detail(request, org_slug: str, policy_slug: str):
    """`/<org>/<policy>/`: the current version."""
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
    if version is None or version.status == Status.SCHEDULED:
        version = get_readable_version(policy, number)
    return _policy_page(request, policy, version, versions, "reading/version_detail.html")


def resource_detail(request, slug: str):
    """`/ressurser/<slug>/`: a shared resource page."""
    resource = get_object_or_404(Resource, slug=slug)
    return render(request, "reading/resource_detail.html", {"resource": resource})
