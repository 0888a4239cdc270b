"""Pages for employees: search, "Mine retningslinjer", /meg/, confirming, and what changed."""

from __future__ import annotations

import csv
import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_safe

from handbook.http import post_only
from operations.personal_data import SECTIONS, personal_data
from people.models import Organisation, Person

from ..access import get_readable_policy, login_redirect
from ..acknowledgements import AcknowledgementError, acknowledge
from ..compliance import obligation_for, obligations_for
from ..diff import section_diff
from ..exports import csv_safe
from ..formats import date_text, datetime_text
from ..models import Acknowledgement, Status
from ..notices import choose_notices
from ..search import clean_query, search
from ..translations import language_name, requested_language, shown_title, translated_title
from .reading import organisation_list

ALL_ORGANISATIONS = "alle"
# Tags the confirmation message and is the id of the block that shows it.
RECEIPT_TAG = "kvittering"


def home(request):
    """`/`: the organisations for visitors, "Mine retningslinjer" for someone logged in."""
    if not request.user.is_authenticated:
        return organisation_list(request)
    obligations = obligations_for(request.user, language=get_language())
    return render(
        request,
        "employee/my_handbook.html",
        {
            "to_confirm": [o for o in obligations if not o.is_confirmed],
            "confirmed": [o for o in obligations if o.last_acknowledgement is not None],
            "changed": [o for o in obligations if o.changed_since_confirmed],
        },
    )


@require_safe
def search_page(request):
    """`/sok/?q=…`: sections the reader may read, in their own organisation unless they choose."""
    user = request.user
    organisations = list(Organisation.objects.only("pk", "slug", "name"))
    chosen = request.GET.get("kommune")
    if chosen is None and user.is_authenticated and user.organisation_id:
        chosen_org = next((o for o in organisations if o.pk == user.organisation_id), None)
    else:
        chosen_org = next((o for o in organisations if o.slug == chosen), None)
    include_earlier = request.GET.get("tidligere") == "1"
    query = clean_query(request.GET.get("q", ""))
    result = search(
        query,
        user=user,
        organisation=chosen_org,
        include_earlier=include_earlier,
        page=request.GET.get("side", 1),
    )
    # Nothing among the chosen kommune's policies: the other kommuner's hits, under their own heading.
    elsewhere = None
    if chosen_org is not None and query and result.policy_count == 0:
        elsewhere = search(
            query, user=user, organisation=None, include_earlier=include_earlier, resources=False
        )
    base_params = {"q": query, "kommune": chosen_org.slug if chosen_org else ALL_ORGANISATIONS}
    if include_earlier:
        base_params["tidligere"] = "1"
    return render(
        request,
        "employee/search.html",
        {
            "search_query": query,
            "result": result,
            "elsewhere": elsewhere,
            "organisations": organisations,
            "chosen_org": chosen_org,
            "include_earlier": include_earlier,
            "base_params": base_params,
        },
    )


@login_redirect
@login_required
@post_only("policy_detail")
def confirm(request, org_slug: str, policy_slug: str):
    """POST only: record the confirmation, then back to the policy page with the receipt."""
    policy = get_readable_policy(request.user, org_slug, policy_slug)
    # Back to the text in the målform the person read.
    language = requested_language(request.POST.get("sprak"))
    back = policy.get_absolute_url() + (f"?sprak={language}" if language else "") + "#bekreft"
    try:
        number = int(request.POST.get("versjon", ""))
    except ValueError:
        messages.error(request, _("Skjemaet manglet versjonsnummer. Ingenting er registrert."))
        return redirect(back)
    version = policy.versions.filter(number=number).issued().first()
    if version is None:
        messages.error(
            request, _("Fant ikke versjonen du prøvde å bekrefte. Ingenting er registrert.")
        )
        return redirect(back)
    if request.POST.get("sprak") and language is None:
        messages.error(request, _("Skjemaet hadde en ukjent målform. Ingenting er registrert."))
        return redirect(back)
    try:
        ack = acknowledge(
            request.user,
            version,
            shown_hash=request.POST.get("tekst", "")[:64],
            language=language,
        )
    except AcknowledgementError as exc:
        if exc.current_url:
            messages.error(
                request,
                format_html(
                    '{} <a class="ds-link" href="{}">{}</a>.',
                    str(exc),
                    exc.current_url,
                    _("Gå til gjeldende versjon"),
                ),
            )
        else:
            messages.error(request, str(exc))
        return redirect(back)
    # The message is shown in the confirmation block at the end of the text, where the reader's eye
    # is, and the fragment moves focus to it (static/js/focus.js); the top of the page skips it.
    at = timezone.localtime(ack.acknowledged_at)
    messages.success(
        request,
        _(
            "Bekreftet: du har lest og forstått versjon %(number)s av «%(title)s», på "
            "%(language)s (%(date)s kl. %(time)s)."
        )
        % {
            "number": ack.version.number,
            "title": policy.title,
            "language": language_name(ack.language),
            # The one date style: 26.11.2026 kl. 10.44.
            "date": date_text(at),
            "time": f"{at:%H.%M}",
        },
        extra_tags=RECEIPT_TAG,
    )
    return redirect(f"{policy.get_absolute_url()}#{RECEIPT_TAG}")


@login_redirect
@require_safe
def changes(request, org_slug: str, policy_slug: str):
    """`endringer/?fra=<n>&til=<m>`: only the sections that changed between two versions.

    For someone who must confirm the newer version, the confirmation comes at the end, so that
    reading what changed and confirming it is one page.
    """
    policy = get_readable_policy(request.user, org_slug, policy_slug)
    # The texts are loaded only for the two versions compared, not for the whole history.
    versions = {
        v.number: v
        for v in policy.versions.filter(status__in=[Status.PUBLISHED, Status.SUPERSEDED]).defer(
            "body", "body_html"
        )
    }
    current = next((v for v in versions.values() if v.status == Status.PUBLISHED), None)
    context = {
        "organisation": policy.organisation,
        "policy": policy,
        "versions": sorted(versions.values(), key=lambda v: v.number),
        "current": current,
    }
    chosen = request.GET.copy()
    asked = "fra" in chosen or "til" in chosen
    earlier = [n for n in versions if current and n < current.number]
    if not asked and earlier:
        # Arriving without a choice shows the latest change: the version before the one in force.
        chosen.update({"fra": str(max(earlier)), "til": str(current.number)})
    error = _changes_error(chosen, versions)
    if error:
        context["error"] = error
        # Arriving without a choice is a normal visit to the form; a wrong choice is a bad request.
        return render(request, "employee/changes.html", context, status=400 if asked else 200)
    numbers = (int(chosen["fra"]), int(chosen["til"]))
    if numbers[0] > numbers[1]:
        # "From 3 to 1" is read as the same two versions in order: what changed from 1 to 3.
        chosen["fra"], chosen["til"] = str(numbers[1]), str(numbers[0])
        return redirect(f"{request.path}?{chosen.urlencode()}")
    texts = dict(policy.versions.filter(number__in=numbers).values_list("number", "body_html"))
    old, new = versions[numbers[0]], versions[numbers[1]]
    # Someone who must confirm the newer version, when it is the one in force, confirms it here.
    obligation = None
    if request.user.is_authenticated and new.is_current and not policy.is_retired:
        obligation = obligation_for(request.user, policy)
    context.update(
        {
            "old": old,
            "new": new,
            "diff": section_diff(texts[old.number], texts[new.number]),
            "obligation": obligation,
        }
    )
    return render(request, "employee/changes.html", context)


def _changes_error(params, versions: dict) -> str:
    raw = {name: params.get(name, "").strip() for name in ("fra", "til")}
    if not raw["fra"] or not raw["til"]:
        return _("Velg hvilke to versjoner du vil sammenligne.")
    try:
        old, new = int(raw["fra"]), int(raw["til"])
    except ValueError:
        return _("Versjonene må oppgis som tall, for eksempel ?fra=1&til=2.")
    missing = [n for n in (old, new) if n not in versions]
    if missing:
        return _("Versjon %(number)s finnes ikke for denne retningslinjen.") % {
            "number": missing[0]
        }
    if old == new:
        return _("Velg to ulike versjoner for å se hva som er endret.")
    return ""


@login_required
def me(request):
    """`/meg/`: all my confirmations, what I must confirm, and my own data to download."""
    language = get_language()
    acknowledgements = list(
        _my_acknowledgements(request.user).annotate(
            translated_title=translated_title(language, "version")
        )
    )
    # Each confirmed version named as its page names it, in the interface's målform when the
    # version has a translation into it.
    for ack in acknowledgements:
        ack.shown_title = shown_title(
            original=ack.version.title,
            original_language=ack.version.language,
            translated=ack.translated_title,
            wanted=language,
        )
    return render(
        request,
        "employee/me.html",
        {
            "acknowledgements": acknowledgements,
            "obligations": obligations_for(request.user, language=language),
            "notice_choices": Person.Notices.choices,
        },
    )


def _my_acknowledgements(person):
    return (
        Acknowledgement.objects.of(person)
        .select_related("version__policy__organisation")
        .order_by("-acknowledged_at", "-pk")
    )


def _ack_rows(person) -> list[dict]:
    return [
        {
            "kommune": ack.version.policy.organisation.name,
            "retningslinje": ack.version.title,
            "adresse": ack.version.get_absolute_url(),
            "versjon": ack.version.number,
            "bekreftet": timezone.localtime(ack.acknowledged_at).isoformat(),
            "referanse": ack.reference,
            "malform": ack.language,
            "teksthash": ack.text_hash,
        }
        for ack in _my_acknowledgements(person)
    ]


@login_required
@post_only("me")
def my_notices(request):
    """POST only: e-mail at once, or only in the weekly digest, when something changes materially."""
    if choose_notices(request.user, request.POST.get("varsler", "")):
        messages.success(request, _("Valget ditt for varsler er lagret."))
    else:
        messages.error(request, _("Velg ett av alternativene for varsler. Ingenting er endret."))
    return redirect(f"{reverse('me')}#varsler")


@login_required
@require_GET
def my_data(request):
    """The right of access as a page a person can read and print: the same data as the JSON file."""
    data = personal_data(request.user)
    # The JSON file keeps its keys and values; the page names them in the reader's language.
    headers = {
        "tidspunkt": _("Tidspunkt"),
        "utfall": _("Utfall"),
        "ip_adresse": _("IP-adresse"),
        "kommune": _("Kommune"),
        "retningslinje": _("Retningslinje"),
        "adresse": _("Adresse"),
        "versjon": _("Versjon"),
        "bekreftet": _("Bekreftet"),
        "malform": _("Målform"),
        "referanse": _("Referanse"),
        "sendt": _("Sendt"),
        "uke": _("Uke"),
        "type": _("Type"),
        "hendelse": _("Hendelse"),
    }
    # The text hash is for machines (it stays in the file); the page names a confirmation by its
    # receipt's reference, as the glossary says.
    left_out = {"teksthash"}
    outcomes = {"innlogget": _("innlogget"), "mislyktes": _("mislyktes")}

    def shown(key, value):
        if key == "utfall":
            return outcomes.get(value, value)
        if key == "malform":
            return language_name(value) if value else value
        return value

    sections = [
        {
            "key": key,
            "title": title,
            "headers": [
                headers.get(h, h.replace("_", " ").capitalize())
                for h in (rows[0] if rows else {})
                if h not in left_out
            ],
            "rows": [[shown(k, v) for k, v in row.items() if k not in left_out] for row in rows],
        }
        for key, title in SECTIONS.items()
        for rows in [data[key]]
    ]
    return render(request, "employee/my_data.html", {"data": data, "sections": sections})


@login_required
@require_GET
def my_data_json(request):
    """The right of access: everything the handbook holds about me, as JSON."""
    data = personal_data(request.user)
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = 'attachment; filename="mine-data.json"'
    return response


@login_required
@require_GET
def my_data_csv(request):
    """My confirmations as CSV (semicolon and BOM, so Excel in Norway opens it as it should)."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    # Translators: the name of the file a person downloads with their confirmations (no spaces).
    filename = _("mine-bekreftelser")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    response.write("\ufeff")
    # For people, not machines: the same words and date style as the pages, no text hash.
    writer = csv.writer(response, delimiter=";")
    writer.writerow(
        [
            _("Kommune"),
            _("Retningslinje"),
            _("Versjon"),
            _("Bekreftet"),
            _("Målform"),
            _("Kvittering"),
            _("Adresse"),
        ]
    )
    for ack in _my_acknowledgements(request.user):
        row = [
            ack.version.policy.organisation.name,
            ack.version.title,
            ack.version.number,
            datetime_text(ack.acknowledged_at),
            language_name(ack.language),
            ack.reference,
            request.build_absolute_uri(ack.version.get_absolute_url()),
        ]
        # A cell starting with = + - @ would be a formula in a spreadsheet.
        writer.writerow([csv_safe(v) for v in row])
    return response
