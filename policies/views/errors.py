"""Error pages that never show a traceback and never need the database."""

from __future__ import annotations

import sys

from django.db import DatabaseError
from django.shortcuts import render


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def permission_denied(request, exception=None):
    return render(request, "403.html", status=403)


def bad_request(request, exception=None):
    return render(request, "400.html", status=400)


def server_error(request):
    """A database that is down is a 503 ("prøv igjen om litt"), anything else a 500."""
    error = sys.exc_info()[1]
    if isinstance(error, DatabaseError):
        response = render(request, "503.html", status=503)
        response["Retry-After"] = "30"
        return response
    return render(request, "500.html", status=500)


def csrf_failure(request, reason: str = ""):
    """A form sent without a valid CSRF token, most often from a page left open too long."""
    return render(request, "403_csrf.html", status=403)
