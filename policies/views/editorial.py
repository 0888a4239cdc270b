"""Pages for editors (kommunikasjon): create policies, write drafts, compare, publish and retire.

Every view is behind `editor_required` and fetches its objects through the access helpers, so an
editor of one organisation gets a 404 for anything of another.
"""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import IntegrityError
from django.db.models import Prefetch
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods

from handbook.http import post_only
from people.models import Organisation

from ..access import (
    editor_required,
    get_editable_draft,
    get_editable_organisation,
    get_editable_policy,
)
from ..authoring import change_settings, create_policy
from ..diff import section_diff, word_diff
from ..formats import date_text
from ..forms_editorial import (
    DraftForm,
    PolicySettingsForm,
    PublishForm,
    has_stripped_markup,
)
from ..models import MAX_BODY_LENGTH, ChangeKind, EventVerb, Policy, PolicyVersion, Status
from ..notices import material_impact, tells_anyone
from ..rendering import render_html
from ..review import review_of
from ..translations import (
    language_name,
    translatable_version,
    translation_states,
    translation_states_of,
)
from ..uploads import max_upload_size
from ..workflow import (
    DRAFT_REPLACED,
    AlreadyPublishedError,
    ConflictError,
    WorkflowError,
    create_draft,
    discard_draft,
    publish,
    restore,
    retire,
    save_draft,
    save_into_new_draft,
)
from .editor_endpoints import analysis_context

SLUG_TAKEN = gettext_lazy(
    "Adressen er nettopp tatt i bruk av en annen retningslinje. Velg en annen."
)
ALREADY_PUBLISHED = gettext_lazy("Utkastet er allerede publisert. Ingen ny versjon ble laget.")


def editor_url(policy: Policy, page: str = "editorial_policy") -> str:
    """The address of one of the policy's editorial pages, by its URL name."""
    return reverse(page, args=[policy.organisation.slug, policy.slug])


def _status_of(policy: Policy, versions: list[PolicyVersion]) -> dict:
    """Current, draft and scheduled version of a policy from its prefetched versions, and its
    review status (None for a retired policy, which is not reviewed)."""
    by_status = {v.status: v for v in versions}
    current = by_status.get(Status.PUBLISHED)
    return {
        "policy": policy,
        "current": current,
        "draft": by_status.get(Status.DRAFT),
        "scheduled": by_status.get(Status.SCHEDULED),
        "review": None if policy.is_retired else review_of(policy, current),
    }


def _live_versions() -> Prefetch:
    live = PolicyVersion.objects.filter(
        status__in=[Status.DRAFT, Status.SCHEDULED, Status.PUBLISHED]
    ).defer("body", "body_html")
    return Prefetch("versions", queryset=live, to_attr="live_versions")


# --- Dashboard and policy settings ------------------------------------------------------------


def _dashboard_order(row: dict) -> tuple:
    """Retired policies (no review) last; the others overdue first, then by title."""
    review = row["review"]
    return (review is None, review.sort_key if review else 0, row["policy"].title)


@editor_required
def dashboard(request):
    """The organisation's policies with their state and review status, overdue first."""
    policies = Policy.objects.select_related("organisation").prefetch_related(_live_versions())
    if not request.user.is_superuser:
        policies = policies.filter(organisation_id=request.user.organisation_id)
    rows = [_status_of(p, p.live_versions) for p in policies]
    rows.sort(key=_dashboard_order)
    states = translation_states_of([(r["policy"], r["current"]) for r in rows])
    for r in rows:
        r["translations"] = states.get(r["policy"].pk, [])
    return render(
        request,
        "editorial/dashboard.html",
        {
            "rows": rows,
            "organisation": request.user.organisation,
            "overdue": sum(1 for r in rows if r["review"] and r["review"].is_overdue),
        },
    )


def own_organisation(request) -> Organisation | None:
    """The editor's own organisation, or None (with a message) for an editor who has none."""
    if request.user.organisation_id is None:
        messages.error(
            request, _("Du hører ikke til en kommune og kan derfor ikke opprette retningslinjer.")
        )
        return None
    return get_editable_organisation(request.user, request.user.organisation.slug)


@editor_required
@require_http_methods(["GET", "POST"])
def policy_new(request):
    """Create a policy in the editor's own organisation, with an empty first draft."""
    organisation = own_organisation(request)
    if organisation is None:
        return redirect("editorial_dashboard")
    form = PolicySettingsForm(request.POST or None, organisation=organisation)
    if request.method == "POST" and form.is_valid():
        try:
            policy, _draft = create_policy(
                organisation=organisation, by=request.user, **form.settings_values()
            )
        except IntegrityError:
            # Another editor took the address between the form's check and the insert.
            form.add_error("slug", SLUG_TAKEN)
        else:
            messages.success(
                request,
                _("«%(title)s» er opprettet. Skriv det første utkastet.") % {"title": policy.title},
            )
            return redirect(editor_url(policy, "editorial_draft"))
    return render(
        request,
        "editorial/policy_form.html",
        {"form": form, "organisation": organisation, "policy": None},
    )


@editor_required
def policy_overview(request, org_slug: str, policy_slug: str):
    """One policy for its editors: current, scheduled and draft version, history, audience."""
    policy = get_editable_policy(request.user, org_slug, policy_slug)
    versions = list(policy.versions.select_related("published_by").order_by("-number"))
    state = _status_of(policy, versions)
    translatable = translatable_version(policy)
    return render(
        request,
        "editorial/policy_overview.html",
        {
            **state,
            "organisation": policy.organisation,
            "versions": [v for v in versions if v.number is not None],
            "units": list(policy.audience_units.all()),
            "translation_version": translatable,
            "translation_original": language_name(translatable.language) if translatable else "",
            "translations": translation_states(policy, translatable),
        },
    )


@editor_required
@require_http_methods(["GET", "POST"])
def policy_settings(request, org_slug: str, policy_slug: str):
    """Change a policy's title, address, audience, visibility and review interval."""
    policy = get_editable_policy(request.user, org_slug, policy_slug)
    form = PolicySettingsForm(
        request.POST or None,
        organisation=policy.organisation,
        policy=policy,
        initial=PolicySettingsForm.initial_for(policy),
    )
    if request.method == "POST" and form.is_valid():
        try:
            policy = change_settings(policy, by=request.user, **form.settings_values())
        except IntegrityError:
            form.add_error("slug", SLUG_TAKEN)
        else:
            messages.success(request, _("Innstillingene er lagret."))
            return redirect(editor_url(policy))
    # The title is in the målform of the policy's text, which may not be the interface's.
    current = policy.versions.current().first()
    draft = None if current else policy.versions.drafts().first()
    language = (current or draft).language if (current or draft) else None
    if language:
        form.fields["title"].widget.attrs["lang"] = language
    return render(
        request,
        "editorial/policy_form.html",
        {
            "form": form,
            "organisation": policy.organisation,
            "policy": policy,
            "current": current,
            "draft": draft,
            "text_language": language,
        },
    )


# --- Drafts -----------------------------------------------------------------------------------


@editor_required
@post_only("editorial_policy")
def draft_start(request, org_slug: str, policy_slug: str):
    """Open a draft from the current version; a second start opens the existing draft."""
    policy = get_editable_policy(request.user, org_slug, policy_slug)
    existing = policy.versions.drafts().exists()
    create_draft(policy, by=request.user)
    if existing:
        messages.info(request, _("Det finnes allerede et utkast. Du fortsetter på det."))
    return redirect(editor_url(policy, "editorial_draft"))


@editor_required
@post_only("editorial_policy")
def draft_discard(request, org_slug: str, policy_slug: str):
    """Throw the open draft away (after the question on the draft page); a repeat changes nothing."""
    policy = get_editable_policy(request.user, org_slug, policy_slug)
    draft = policy.versions.filter(pk=_int(request.POST.get("draft"))).first()
    revision = _int(request.POST.get("revision"))
    if draft is None or revision is None:
        messages.error(request, _("Fant ikke utkastet du ville forkaste. Ingenting er endret."))
        return redirect(editor_url(policy))
    try:
        discarded = discard_draft(draft, by=request.user, revision=revision)
    except ConflictError as error:
        messages.error(request, str(error))
        return redirect(editor_url(policy, "editorial_draft"))
    except AlreadyPublishedError as error:
        messages.info(request, str(error))
        return redirect(editor_url(policy))
    if discarded:
        messages.success(
            request,
            _("Utkastet er forkastet. Gjeldende versjon er uendret; du kan starte et nytt utkast."),
        )
    return redirect(editor_url(policy))


def _draft_page(request, policy, draft, form, *, status: int = 200, conflict=None):
    # The text is spell-checked and read aloud in its own målform, whatever the interface's.
    for name in ("title", "body"):
        form.fields[name].widget.attrs["lang"] = draft.language
    body = form["body"].value() or ""
    title = form["title"].value() or draft.title
    context = {
        "organisation": policy.organisation,
        "policy": policy,
        "draft": draft,
        "form": form,
        "conflict": conflict,
        "stripped_markup": has_stripped_markup(body),
        "max_body_length": MAX_BODY_LENGTH,
        "upload_limit": max_upload_size(),
        **analysis_context(body[:MAX_BODY_LENGTH], title),
    }
    return render(request, "editorial/draft_edit.html", context, status=status)


@editor_required
@require_http_methods(["GET", "POST"])
def draft_edit(request, org_slug: str, policy_slug: str):
    """Write the draft; a save that would overwrite someone else's text shows both instead (409)."""
    policy = get_editable_policy(request.user, org_slug, policy_slug)
    draft = policy.versions.drafts().first()
    if request.method == "GET":
        if draft is None:
            messages.info(request, _("Det finnes ikke noe utkast. Start et nytt utkast her."))
            return redirect(editor_url(policy))
        form = DraftForm(
            initial={
                "title": draft.title,
                "body": draft.body,
                "revision": draft.revision,
                "draft": draft.pk,
            }
        )
        return _draft_page(request, policy, draft, form)

    form = DraftForm(request.POST)
    if draft is None:
        return _save_into_new_draft(request, policy, form)
    if not form.is_valid():
        return _draft_page(request, policy, draft, form)
    data = form.cleaned_data
    if data["draft"] is not None and data["draft"] != draft.pk:
        # The draft this text was written in has been published, and someone has started a new
        # one since: saving into it would overwrite their text.
        return _conflict_page(request, policy, data, ConflictError(DRAFT_REPLACED, current=draft))
    try:
        draft = save_draft(
            draft,
            by=request.user,
            title=data["title"],
            body=data["body"],
            revision=data["revision"],
        )
    except ConflictError as conflict:
        return _conflict_page(request, policy, data, conflict)
    except AlreadyPublishedError as error:
        # Published between our read and the save: keep the text in a new draft instead.
        messages.error(request, str(error))
        return _save_into_new_draft(request, policy, form)
    # No message about HTML in the text here: the draft page and the publish page, where the
    # editor lands, warn about it themselves as long as the text has it.
    messages.success(request, _("Utkastet er lagret."))
    if request.POST.get("neste") == "publiser":
        return redirect(editor_url(policy, "editorial_publish"))
    return redirect(editor_url(policy, "editorial_draft"))


def _conflict_page(request, policy, data, conflict: ConflictError):
    """Keep the refused text in the form, with the revision that is now current, so that the editor
    can merge by hand and then save deliberately over the other text."""
    current = conflict.current
    rebound = request.POST.copy()
    rebound["revision"] = str(current.revision)
    rebound["draft"] = str(current.pk)
    return _draft_page(
        request,
        policy,
        current,
        DraftForm(rebound),
        status=409,
        conflict={
            "message": str(conflict),
            "theirs": current,
            "mine_title": data["title"],
            "mine": data["body"],
            "diff": word_diff(render_html(current.body), render_html(data["body"])).html,
        },
    )


def _save_into_new_draft(request, policy, form):
    """The draft was published while this editor wrote: nothing is lost, the text becomes a new
    draft (or, when someone already started one, a conflict with it)."""
    if not form.is_valid():
        messages.error(request, _("Utkastet er publisert, og teksten du sendte kunne ikke lagres."))
        return redirect(editor_url(policy))
    data = form.cleaned_data
    try:
        save_into_new_draft(policy, by=request.user, title=data["title"], body=data["body"])
    except ConflictError as conflict:
        return _conflict_page(request, policy, data, conflict)
    messages.warning(
        request,
        _(
            "Utkastet du skrev i, ble publisert mens du skrev. Teksten din er lagret i et nytt "
            "utkast: sammenlign det med gjeldende versjon før du publiserer."
        ),
    )
    return redirect(editor_url(policy, "editorial_draft"))


@editor_required
def draft_compare(request, org_slug: str, policy_slug: str):
    """The draft against the current version, word by word."""
    policy, draft = get_editable_draft(request.user, org_slug, policy_slug)
    live = policy.versions.current().first()
    diff = section_diff(live.body_html if live else "", render_html(draft.body))
    return render(
        request,
        "editorial/draft_compare.html",
        {
            "organisation": policy.organisation,
            "policy": policy,
            "draft": draft,
            "live": live,
            "title_changed": live is not None and live.title != draft.title,
            "diff": diff,
        },
    )


# --- Publishing, retiring, restoring -----------------------------------------------------------


@editor_required
@require_http_methods(["GET", "POST"])
def publish_draft(request, org_slug: str, policy_slug: str):
    """Publish (or schedule) the draft as the next version; a repeated submit changes nothing."""
    policy = get_editable_policy(request.user, org_slug, policy_slug)
    first_version = not policy.versions.issued().exists()
    if request.method == "POST":
        # A second submit of the same form finds its draft already published: nothing happens.
        draft = policy.versions.drafts().filter(pk=_int(request.POST.get("draft"))).first()
        if draft is None:
            messages.info(request, ALREADY_PUBLISHED)
            return redirect(editor_url(policy))
        form = PublishForm(request.POST, first_version=first_version)
        if form.is_valid():
            data = form.cleaned_data
            try:
                version = publish(
                    draft,
                    by=request.user,
                    change_kind=data["change_kind"],
                    change_note=data["change_note"],
                    effective_from=data["effective_from"],
                    adopted_by=data["adopted_by"],
                    adopted_on=data["adopted_on"],
                    deadline_days=policy.deadline_days,
                    expected_revision=data["revision"],
                )
            except ConflictError as error:
                messages.error(request, str(error))
                return redirect(editor_url(policy, "editorial_draft"))
            except AlreadyPublishedError:
                messages.info(request, ALREADY_PUBLISHED)
                return redirect(editor_url(policy))
            except WorkflowError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _published_message(version, policy))
                return redirect(editor_url(policy))
    else:
        draft = policy.versions.drafts().first()
        if draft is None:
            messages.info(
                request, _("Det finnes ikke noe utkast å publisere. Start et utkast først.")
            )
            return redirect(editor_url(policy))
        form = PublishForm(
            initial={
                "draft": draft.pk,
                "revision": draft.revision,
                "effective_from": timezone.localdate(),
            },
            first_version=first_version,
        )
    live = policy.versions.current().first()
    return render(
        request,
        "editorial/publish_form.html",
        {
            "organisation": policy.organisation,
            "policy": policy,
            "draft": draft,
            "live": live,
            "form": form,
            "first_version": first_version,
            "stripped_markup": has_stripped_markup(draft.body),
            "scheduled": policy.versions.filter(status=Status.SCHEDULED).first(),
            "impact": material_impact(policy),
            "deadline_today": timezone.localdate() + datetime.timedelta(days=policy.deadline_days),
        },
        status=200 if request.method == "GET" or form.is_valid() else 400,
    )


def _published_message(version: PolicyVersion, policy: Policy) -> str:
    """What happened and what happens next, said after publishing."""
    deadline = date_text(version.effective_from + datetime.timedelta(days=version.deadline_days))
    values = {"number": version.number, "date": date_text(version.effective_from)}
    if version.status == Status.SCHEDULED:
        if version.change_kind == ChangeKind.MATERIAL:
            return _(
                "Versjon %(number)s er planlagt og blir gjeldende %(date)s. Da får alle som må "
                "bekrefte på nytt, varsel, med frist %(deadline)s."
            ) % {**values, "deadline": deadline}
        return (
            _(
                "Versjon %(number)s er planlagt og blir gjeldende %(date)s. Tidligere "
                "bekreftelser gjelder fortsatt."
            )
            % values
        )
    if version.change_kind != ChangeKind.MATERIAL:
        return (
            _(
                "Versjon %(number)s er publisert. Endringen er redaksjonell: tidligere "
                "bekreftelser gjelder fortsatt."
            )
            % values
        )
    impact = material_impact(policy)
    if impact is None or impact.people == 0:
        return _("Versjon %(number)s er publisert. Ingen i målgruppen må bekrefte nå.") % values
    # Those the worker is telling (a back-dated version tells nobody), as counted for the form.
    told = impact.by_email if tells_anyone(version) else 0
    values = {**values, "people": impact.people, "deadline": deadline, "told": told}
    if told == impact.people:
        return (
            ngettext(
                "Versjon %(number)s er publisert. %(people)s person må bekrefte innen %(deadline)s "
                "og får e-post om det nå.",
                "Versjon %(number)s er publisert. %(people)s personer må bekrefte innen "
                "%(deadline)s, og alle får e-post om det nå.",
                impact.people,
            )
            % values
        )
    if told == 0:
        return (
            ngettext(
                "Versjon %(number)s er publisert. %(people)s person må bekrefte innen %(deadline)s "
                "og ser det i ukesoversikten og på «Mine retningslinjer»; ingen får e-post nå.",
                "Versjon %(number)s er publisert. %(people)s personer må bekrefte innen "
                "%(deadline)s og ser det i ukesoversikten og på «Mine retningslinjer»; ingen får "
                "e-post nå.",
                impact.people,
            )
            % values
        )
    return (
        ngettext(
            "Versjon %(number)s er publisert. %(people)s person må bekrefte innen %(deadline)s; "
            "%(told)s får e-post om det nå, de andre ser det i ukesoversikten og på «Mine "
            "retningslinjer».",
            "Versjon %(number)s er publisert. %(people)s personer må bekrefte innen %(deadline)s; "
            "%(told)s av dem får e-post om det nå, de andre ser det i ukesoversikten og på «Mine "
            "retningslinjer».",
            impact.people,
        )
        % values
    )


def _int(value) -> int | None:
    """A primary key from a form, or None for anything that cannot be one."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**63 else None


def _confirm(request, org_slug: str, policy_slug: str, *, action: str):
    policy = get_editable_policy(request.user, org_slug, policy_slug)
    if request.method == "POST":
        if action == "retire":
            retire(policy, by=request.user)
            messages.success(
                request, _("«%(title)s» er trukket tilbake fra håndboka.") % {"title": policy.title}
            )
        else:
            restore(policy, by=request.user)
            messages.success(
                request, _("«%(title)s» er tilbake i håndboka.") % {"title": policy.title}
            )
        return redirect(editor_url(policy))
    return render(
        request,
        "editorial/confirm.html",
        {
            "organisation": policy.organisation,
            "policy": policy,
            "action": action,
            # Only for the title's lang.
            "current": policy.versions.current().only("pk", "language").first(),
        },
    )


@editor_required
@require_http_methods(["GET", "POST"])
def policy_retire(request, org_slug: str, policy_slug: str):
    """Take a policy out of the handbook, after a confirmation page."""
    return _confirm(request, org_slug, policy_slug, action="retire")


@editor_required
@require_http_methods(["GET", "POST"])
def policy_restore(request, org_slug: str, policy_slug: str):
    """Bring a retired policy back, after a confirmation page."""
    return _confirm(request, org_slug, policy_slug, action="restore")


@editor_required
def policy_history(request, org_slug: str, policy_slug: str):
    """The audit trail of one policy: who did what, when."""
    policy = get_editable_policy(request.user, org_slug, policy_slug)
    kind = request.GET.get("vis", "")
    if kind not in HISTORY_KINDS:
        kind = ""
    events = policy.events.select_related("actor", "version").order_by("-created_at", "-id")
    if kind:
        events = events.filter(verb__in=HISTORY_KINDS[kind][1])
    page = Paginator(events, 50).get_page(request.GET.get("side"))
    return render(
        request,
        "editorial/history.html",
        {
            "organisation": policy.organisation,
            "policy": policy,
            "page": page,
            "kind": kind,
            "kinds": [(key, label) for key, (label, _verbs) in HISTORY_KINDS.items()],
            # Only for the title's lang.
            "current": policy.versions.current().only("pk", "language").first(),
        },
    )


# The history's filter (?vis=…): the editors' own work apart from the managers' exports and
# reminders, which otherwise drown it.
HISTORY_KINDS = {
    "tekst": (
        gettext_lazy("Tekst og publisering"),
        [
            EventVerb.POLICY_CREATED,
            EventVerb.DRAFT_CREATED,
            EventVerb.DRAFT_SAVED,
            EventVerb.DRAFT_DISCARDED,
            EventVerb.PUBLISHED,
            EventVerb.SCHEDULED,
            EventVerb.ACTIVATED,
            EventVerb.RETIRED,
            EventVerb.RESTORED,
            EventVerb.IMPORTED,
        ],
    ),
    "innstillinger": (gettext_lazy("Innstillinger"), [EventVerb.SETTINGS_CHANGED]),
    "ledere": (gettext_lazy("Påminnelser og eksport"), [EventVerb.REMINDED, EventVerb.EXPORTED]),
}
