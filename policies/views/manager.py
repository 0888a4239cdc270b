"""Pages for managers under /oversikt/: the overview, units, people per policy, exports, reminders.

Every view fetches its objects through policies.access, so a manager asking for a unit or policy
outside their scope gets a 404, and someone who manages nothing a 403.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from people.models import Unit

from .. import dashboards
from ..access import get_managed_policy, get_managed_unit, manager_scope, visible_units
from ..audit import record_export
from ..compliance import recent_material_changes
from ..dashboards import PersonRow, Scope
from ..exports import ExportTitle, csv_lines, write_xlsx
from ..models import Policy
from ..notices import notice_states
from ..reminders import plan_reminders, reminder_states, request_reminders
from ..translations import current_with_title, policy_title, title_of_current

# --- The overview and the unit tree ----------------------------------------------------------


@login_required
def overview(request: HttpRequest):
    """`/oversikt/`: each policy's confirmations for the manager's units, one row per unit."""
    scope = manager_scope(request.user)
    if scope.is_whole_organisation:
        row_units = Unit.objects.filter(organisation_id=scope.organisation_id, parent=None)
    else:
        row_units = Unit.objects.filter(path__in=scope.unit_paths)
    row_units = list(row_units.order_by("name"))
    data = dashboards.overview(scope, row_units, language=get_language())
    return render(
        request,
        "manager/overview.html",
        {
            "data": data,
            "unit": None,
            "scope": scope,
            "row_units_label": _("Enheter"),
            "resets": _resets(data),
        },
    )


@login_required
def unit_detail(request: HttpRequest, unit_id: int):
    """The overview for one unit, one row per sub-unit."""
    scope = manager_scope(request.user)
    unit = get_managed_unit(request.user, unit_id, scope)
    ancestors = _visible_ancestors(request.user, unit, scope)
    scope = scope.narrowed_to(unit)
    children = list(unit.children.order_by("name"))
    data = dashboards.overview(scope, children, language=get_language())
    return render(
        request,
        "manager/overview.html",
        {
            "resets": _resets(data),
            "data": data,
            "unit": unit,
            "scope": scope,
            "ancestors": ancestors,
            "row_units_label": _("Underenheter"),
        },
    )


def _resets(data: dashboards.Overview) -> list[tuple]:
    """The material changes that explain a fall in the figures, each with its policy's name as
    the policy's row names it."""
    titles = {row.policy.pk: row.title for row in data.policies}
    changes = recent_material_changes([row.policy for row in data.policies])
    return [(change, titles[change.version.policy_id]) for change in changes]


def _visible_ancestors(user, unit: Unit | None, scope) -> list[Unit]:
    """The units above `unit` that this manager may also open, for the breadcrumbs."""
    if unit is None:
        return []
    ids = [int(pk) for pk in unit.path.strip("/").split("/")[:-1]]
    if not ids:
        return []
    return list(visible_units(user, scope).filter(pk__in=ids).order_by("path"))


# --- The people behind one policy --------------------------------------------------------------


@dataclass(frozen=True)
class _ListRequest:
    policy: Policy
    unit: Unit | None
    scope: Scope  # narrowed to the unit, if any
    ancestors: list[Unit]
    sort: str
    missing_only: bool


def _list_context(request: HttpRequest, slug: str, unit_id: int | None) -> _ListRequest:
    """Fetch and authorise the policy and unit, and read the list's options from the query string."""
    scope = manager_scope(request.user)
    policy = get_managed_policy(request.user, slug, scope)
    unit = None
    ancestors: list[Unit] = []
    if unit_id is not None:
        unit = get_managed_unit(request.user, unit_id, scope)
        ancestors = _visible_ancestors(request.user, unit, scope)
        scope = scope.narrowed_to(unit)
    sort, _ = dashboards.sort_clause(request.GET.get("sort", "navn")[:20])
    missing_only = request.GET.get("mangler") == "1"
    return _ListRequest(policy, unit, scope, ancestors, sort, missing_only)


def _page_number(request: HttpRequest) -> int:
    try:
        return max(1, min(int(request.GET.get("side", "1")), 100_000))
    except ValueError:
        return 1


def _list_url(policy: Policy, unit: Unit | None, page: str = "people") -> str:
    """The address of the person list of `policy` (or its export, print or reminder page)."""
    if unit is None:
        return reverse(f"manager_policy_{page}", args=[policy.slug])
    return reverse(f"manager_unit_policy_{page}", args=[unit.pk, policy.slug])


@login_required
def policy_people(request: HttpRequest, slug: str, unit_id: int | None = None):
    """The people behind one policy's figures, sortable, paged, optionally only those missing."""
    ctx = _list_context(request, slug, unit_id)
    policy, unit, scope = ctx.policy, ctx.unit, ctx.scope
    sort, missing_only = ctx.sort, ctx.missing_only
    page = dashboards.person_page(
        scope, policy, sort=sort, missing_only=missing_only, page=_page_number(request)
    )
    person_ids = [row.person_id for row in page.rows]
    states = reminder_states(policy=policy, person_ids=person_ids)
    notices = notice_states(policy=policy, person_ids=person_ids)
    rows = [(row, states.get(row.person_id), notices.get(row.person_id)) for row in page.rows]
    options = {"sort": sort, **({"mangler": "1"} if missing_only else {})}
    base = _list_url(policy, unit)

    def url(**overrides) -> str:
        query = {**options, **overrides}
        return base + "?" + urlencode({k: v for k, v in query.items() if v not in (None, "")})

    columns = [
        ("navn", _("Navn")),
        ("enhet", _("Enhet")),
        ("status", _("Status")),
        ("dato", _("Bekreftet")),
        ("frist", _("Frist")),
    ]
    headers = []
    for key, label in columns:
        current = sort.removeprefix("-") == key
        descending = current and sort.startswith("-")
        headers.append(
            {
                "label": label,
                "url": url(sort=("" if descending or not current else "-") + key, side=None),
                "aria_sort": ("descending" if descending else "ascending") if current else None,
            }
        )
    return render(
        request,
        "manager/policy_people.html",
        {
            "policy": policy,
            "name": policy_title(policy, get_language()),
            "unit": unit,
            "page": page,
            "rows": rows,
            "headers": headers,
            "ancestors": ctx.ancestors,
            "filter_all_url": url(mangler=None, side=None),
            "filter_missing_url": url(mangler="1", side=None),
            "prev_url": url(side=page.page - 1) if page.page > 1 else None,
            "next_url": url(side=page.page + 1) if page.page < page.pages else None,
            "export_query": urlencode(options),
            "base_url": base,
            "export_csv_url": _list_url(policy, unit, "export_csv"),
            "export_xlsx_url": _list_url(policy, unit, "export_xlsx"),
            "print_url": _list_url(policy, unit, "print"),
            "remind_url": _list_url(policy, unit, "remind"),
        },
    )


# --- Export and print --------------------------------------------------------------------------

# What a browser's Fetch Metadata says when a person opens or downloads the file: a top-level
# navigation. Browsers that predate these headers send none of them and are let through.
_DOWNLOAD_DESTS = {None, "document"}
_DOWNLOAD_MODES = {None, "navigate"}
_DOWNLOAD_SITES = {None, "same-origin", "none"}


def download_only(view):
    """Serve (and so record) an export only for a person's own download.

    Exports write an audit event, so they answer GET only (HEAD and OPTIONS never write or return the
    file) and refuse what a page can make a browser fetch by itself: an `<img>` or `<iframe>`
    pointing at the address, a script's fetch(), a prefetch, another site's script navigating here.
    A link clicked or an address typed is a top-level navigation (`Sec-Fetch-Dest: document`,
    `Sec-Fetch-Mode: navigate`, same site or `Sec-Fetch-User: ?1`) and gets the file.
    We chose this over turning the exports into POST forms because their addresses are links that
    managers bookmark and share, and a print view reached by POST cannot be reloaded.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        headers = request.headers
        if (
            headers.get("Sec-Fetch-Dest") not in _DOWNLOAD_DESTS
            or headers.get("Sec-Fetch-Mode") not in _DOWNLOAD_MODES
            or headers.get("Sec-Purpose", headers.get("Purpose", "")).startswith("prefetch")
            # From another site only when the person clicked (a link on the intranet), not when
            # that site's script or self-submitting form sends the browser here.
            or (
                headers.get("Sec-Fetch-Site") not in _DOWNLOAD_SITES
                and headers.get("Sec-Fetch-User") != "?1"
            )
        ):
            return HttpResponse(
                _("Listen kan bare lastes ned ved å åpne lenken direkte."),
                status=400,
                content_type="text/plain; charset=utf-8",
            )
        return view(request, *args, **kwargs)

    return require_GET(wrapper)


def _filename(policy: Policy, unit: Unit | None, extension: str) -> str:
    """Named after the unit (or the kommune), so that a folder of exports reads by itself."""
    where = slugify((unit.name if unit else policy.organisation.name).translate(_TRANSLITERATE))
    # Translators: the first word of an exported file's name (lower case, no spaces).
    first = _("bekreftelser")
    return f"{first}-{policy.slug}-{where}-{timezone.localdate():%Y-%m-%d}.{extension}"


_TRANSLITERATE = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "Æ": "ae", "Ø": "o", "Å": "a"})


def _exported_rows(
    request: HttpRequest, slug: str, unit_id: int | None, *, kind: str
) -> tuple[_ListRequest, Iterator[PersonRow]]:
    """Fetch and authorise the list, record that it leaves the system as `kind`, and return its
    rows (a lazy stream: nothing is read until the response iterates it)."""
    ctx = _list_context(request, slug, unit_id)
    record_export(
        by=request.user,
        policy=ctx.policy,
        unit=ctx.unit,
        kind=kind,
        missing_only=ctx.missing_only,
        sort=ctx.sort,
    )
    rows = dashboards.iter_person_rows(
        ctx.scope, ctx.policy, sort=ctx.sort, missing_only=ctx.missing_only
    )
    return ctx, rows


@login_required
@download_only
def export_csv(request: HttpRequest, slug: str, unit_id: int | None = None):
    """The person list as a semicolon-separated file that Excel opens as UTF-8."""
    ctx, rows = _exported_rows(request, slug, unit_id, kind="csv")
    response = StreamingHttpResponse(csv_lines(rows), content_type="text/csv; charset=utf-8")
    filename = _filename(ctx.policy, ctx.unit, "csv")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@download_only
def export_xlsx(request: HttpRequest, slug: str, unit_id: int | None = None):
    """The person list as an Excel workbook."""
    ctx, rows = _exported_rows(request, slug, unit_id, kind="xlsx")
    # A zip archive is only complete when closed, so the workbook goes to a temporary file first
    # (rows are flushed as written) and is then streamed from disk: memory stays flat either way.
    target = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it)
    current = ctx.policy.versions.current().first()
    title = ExportTitle(
        kommune=ctx.policy.organisation.name,
        policy=ctx.policy.title,
        version=current.number if current else None,
        unit=ctx.unit.name if ctx.unit else _("Alle enhetene du har oversikt over"),
        exported_at=timezone.now(),
        exported_by=request.user.display_name,
    )
    write_xlsx(target, rows, title)
    target.seek(0)
    return FileResponse(
        target,
        as_attachment=True,
        filename=_filename(ctx.policy, ctx.unit, "xlsx"),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


@login_required
@download_only
def print_list(request: HttpRequest, slug: str, unit_id: int | None = None):
    """The person list as a page made for printing."""
    ctx, rows = _exported_rows(request, slug, unit_id, kind="print")
    summary = dashboards.person_page(ctx.scope, ctx.policy, missing_only=ctx.missing_only)
    language = get_language()
    # One query for the version the page names and the title it names the policy by.
    current = current_with_title(ctx.policy, language)
    return render(
        request,
        "manager/policy_print.html",
        {
            "policy": ctx.policy,
            "name": title_of_current(ctx.policy, current, language),
            "unit": ctx.unit,
            "current": current,
            "summary": summary,
            "rows": rows,
            "printed_at": timezone.localtime(),
            "back_url": _list_url(ctx.policy, ctx.unit),
        },
    )


# --- Reminders ---------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def send_reminders(request: HttpRequest, slug: str, unit_id: int | None = None):
    """GET shows who would be reminded; POST sends the reminders and goes back to the list."""
    ctx = _list_context(request, slug, unit_id)
    policy, unit, scope = ctx.policy, ctx.unit, ctx.scope
    if request.method == "POST":
        result = request_reminders(scope=scope, policy=policy, unit=unit, by=request.user)
        messages.success(request, _reminder_message(result.queued, result.skipped))
        return redirect(_list_url(policy, unit) + "?mangler=1")
    plan = plan_reminders(scope=scope, policy=policy)
    return render(
        request,
        "manager/reminder_confirm.html",
        {
            "policy": policy,
            "name": policy_title(policy, get_language()),
            "unit": unit,
            "plan": plan,
            "back_url": _list_url(policy, unit),
            "post_url": _list_url(policy, unit, "remind"),
        },
    )


def _reminder_message(sent: int, skipped: int) -> str:
    # Queued, not yet sent: the list shows per person whether it was "sendt", "venter" or "feilet".
    if sent == 0:
        text = _("Ingen påminnelser ble sendt")
    else:
        text = ngettext(
            "Påminnelse sendes til %(count)s person; kolonnen «Påminnelse» viser når den er sendt",
            "Påminnelse sendes til %(count)s personer; kolonnen «Påminnelse» viser når den er sendt",
            sent,
        ) % {"count": sent}
    if skipped:
        text += " " + _(
            "(%(count)s hoppet over: påminnet siste sju dager eller mangler e-post)"
        ) % {"count": skipped}
    return text + "."
