"""Reuse across organisations: public policies of other organisations to start from, and two
policies side by side while drafting one's own."""

from __future__ import annotations

import re

from django.contrib import messages
from django.db import IntegrityError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from ..access import editor_required, get_reusable_version
from ..authoring import start_from
from ..forms_editorial import CompareForm, ReuseForm
from ..models import Policy, PolicyVersion, Visibility
from .editorial import SLUG_TAKEN, editor_url, own_organisation


def _public_current_versions():
    """Current versions of public policies still in the handbook, by organisation and title."""
    return (
        PolicyVersion.objects.current()
        .filter(policy__visibility=Visibility.PUBLIC, policy__retired_at__isnull=True)
        .select_related("policy__organisation")
        .defer("body", "body_html")
        .order_by("policy__organisation__name", "policy__title")
    )


@editor_required
def reuse_list(request):
    """Public policies of other organisations an editor can start from."""
    versions = _public_current_versions()
    if request.user.organisation_id:
        versions = versions.exclude(policy__organisation_id=request.user.organisation_id)
    return render(request, "editorial/reuse_list.html", {"versions": versions})


@editor_required
@require_http_methods(["GET", "POST"])
def reuse_start(request, org_slug: str, policy_slug: str):
    """Start a policy of one's own from another organisation's public text."""
    source = get_reusable_version(request.user, org_slug, policy_slug)
    organisation = own_organisation(request)
    if organisation is None:
        return redirect("editorial_dashboard")
    source_policy = source.policy
    initial = {"title": source.title, "slug": source_policy.slug}
    if Policy.objects.filter(organisation=organisation, slug=source_policy.slug).exists():
        initial["slug"] = f"{source_policy.slug}-{organisation.slug}"[:80]
    form = ReuseForm(request.POST or None, organisation=organisation, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            policy, _draft = start_from(
                source,
                organisation=organisation,
                by=request.user,
                title=form.cleaned_data["title"],
                slug=form.cleaned_data["slug"],
            )
        except IntegrityError:
            # Another editor took the address between the form's check and the insert.
            form.add_error("slug", SLUG_TAKEN)
        else:
            messages.success(
                request,
                _(
                    "Utkastet er laget fra %(name)ss retningslinjer, versjon %(number)s. "
                    "Tilpass det til din kommune."
                )
                % {"name": source_policy.organisation.name, "number": source.number},
            )
            return redirect(editor_url(policy, "editorial_draft"))
    return render(
        request,
        "editorial/reuse_form.html",
        {"form": form, "source": source, "organisation": organisation},
    )


@editor_required
def side_by_side(request):
    """Two policies next to each other, e.g. Bergen's and Moskenes', for an editor drafting their own."""
    visible = PolicyVersion.objects.current().filter(
        policy__in=Policy.objects.readable_by(request.user)
    )
    visible = visible.select_related("policy__organisation")
    listed = list(
        visible.defer("body", "body_html").order_by("policy__organisation__name", "policy__title")
    )
    choices = [("", _("Velg en retningslinje"))] + [
        (str(v.policy_id), f"{v.policy.organisation.name}: {v.title}") for v in listed
    ]
    chosen_both = "venstre" in request.GET and "hoyre" in request.GET
    form = CompareForm(
        request.GET if chosen_both else None,
        choices=choices,
        languages={str(v.policy_id): v.language for v in listed},
        initial=request.GET.dict(),
    )
    columns = []
    if chosen_both and form.is_valid():
        ids = [int(form.cleaned_data["venstre"]), int(form.cleaned_data["hoyre"])]
        chosen = {v.policy_id: v for v in visible.filter(policy_id__in=ids)}
        for policy_id in ids:
            version = chosen.get(policy_id)
            if version is None:
                raise Http404
            columns.append(version)
    columns = [(v, _as_column(v.body_html, n)) for n, v in enumerate(columns, start=1)]
    return render(request, "editorial/side_by_side.html", {"form": form, "columns": columns})


_HEADING_TAG = re.compile(r"<(/?)h([2-6])\b")
_HEADING_ID = re.compile(r'(<h[2-6]) id="([^"]+)"')


def _as_column(body_html: str, column: int) -> str:
    """A stored body for one column of the side-by-side page: its headings one level down (the
    column has its own h2) and their ids prefixed, so that two texts never share an id."""
    demoted = _HEADING_TAG.sub(lambda m: f"<{m.group(1)}h{min(int(m.group(2)) + 1, 6)}", body_html)
    return mark_safe(_HEADING_ID.sub(rf'\1 id="side{column}-\2"', demoted))  # noqa: S308
