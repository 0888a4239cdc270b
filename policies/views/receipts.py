"""Receipts: the employee's own receipt for a confirmation (page and PDF), and the editors' lookup
of a receipt's reference within their kommune."""

from __future__ import annotations

import logging

from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from .. import receipts
from ..access import editor_required
from ..models import Acknowledgement

logger = logging.getLogger(__name__)
PDF_STYLESHEET = "css/receipt-pdf.css"


def _own_receipt(person, pk: int) -> Acknowledgement:
    # Only one's own confirmations: anyone else's is a 404, so that their existence does not leak.
    ack = (
        Acknowledgement.objects.of(person)
        .select_related("person__unit", "version__policy__organisation")
        .filter(pk=pk)
        .first()
    )
    if ack is None:
        raise Http404("Fant ikke kvitteringen.")
    return ack


def _context(ack: Acknowledgement) -> dict:
    return {
        "ack": ack,
        "version": ack.version,
        "policy": ack.version.policy,
        "organisation": ack.version.policy.organisation,
        "person": ack.person,
    }


@login_required
@require_GET
def receipt(request, pk: int):
    """`/meg/kvitteringer/<n>/`: a receipt to keep, print or download as PDF."""
    return render(request, "employee/receipt.html", _context(_own_receipt(request.user, pk)))


@login_required
@require_GET
def receipt_pdf(request, pk: int):
    """The same receipt as a PDF (WeasyPrint); without its system libraries, the printable page."""
    ack = _own_receipt(request.user, pk)
    html = render_to_string("employee/receipt_pdf.html", _context(ack), request=request)
    try:
        from weasyprint import CSS, HTML
    except (ImportError, OSError):  # Pango missing on this machine: the page prints just as well.
        logger.warning("WeasyPrint is not usable here; serving the printable receipt instead")
        return receipt(request, pk)
    # No base_url and no external resources: the PDF is made from our own template only.
    pdf = HTML(string=html).write_pdf(stylesheets=[CSS(filename=finders.find(PDF_STYLESHEET))])
    name = slugify(f"kvittering {ack.version.policy.slug} versjon {ack.version.number}")
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
    return response


@editor_required
@require_GET
def receipt_lookup(request):
    """`/redaksjon/kvittering/?referanse=…`: whose confirmation a receipt's reference records."""
    reference = request.GET.get("referanse", "").strip()[:40]
    user = request.user
    found = None
    if reference:
        found = receipts.find(
            reference, organisation_id=None if user.is_superuser else user.organisation_id
        )
    return render(
        request,
        "editorial/receipt_lookup.html",
        {"reference": reference, "found": found, "asked": bool(reference)},
        status=404 if reference and found is None else 200,
    )
