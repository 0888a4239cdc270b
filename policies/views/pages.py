"""Fixed information pages that every public-sector site must have."""

from __future__ import annotations

import datetime

from django.shortcuts import render
from django.views.decorators.http import require_safe

# The date the statement was last reviewed against the test suite's WCAG checks (tests/browser/).
# Update it whenever the statement's content changes: the law asks for the date of the assessment.
STATEMENT_UPDATED = datetime.date(2026, 11, 21)


@require_safe
def accessibility_statement(request):
    """The tilgjengelighetserklæring Norwegian public bodies must publish (likestillings- og
    diskrimineringsloven § 18 and forskrift om universell utforming av IKT-løsninger)."""
    return render(request, "pages/tilgjengelighet.html", {"updated": STATEMENT_UPDATED})
