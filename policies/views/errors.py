"""Error pages that never show a traceback and never need the database."""

from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError
from django.shortcuts import render
from redis.exceptions import RedisError

# SQLSTATE classes that mean "the database cannot be reached or is restarting": connection
# exceptions (08), the server shutting down or starting up (57P01-57P03) and too many connections.
_CONNECTION_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53300")


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def permission_denied(request, exception=None):
    return render(request, "403.html", status=403)


def bad_request(request, exception=None):
    return render(request, "400.html", status=400)


def is_connection_failure(error: BaseException | None) -> bool:
    """True when `error` says the database (or the shared cache) could not be reached, not that it
    refused something.

    psycopg's own connection errors carry no SQLSTATE; errors the server sends carry one. A
    constraint, a trigger or a deadlock is our bug or a conflict, not an outage.
    """
    if isinstance(error, InterfaceError | RedisError):
        return True  # RedisError: the shared cache (people.sessions refuses to sign out without it)
    if not isinstance(error, OperationalError):
        return False
    sqlstate = getattr(error.__cause__, "sqlstate", None)
    return sqlstate is None or sqlstate.startswith(_CONNECTION_SQLSTATES)


def server_error(request):
    """A database that cannot be reached is a 503 ("prøv igjen om litt"), anything else a 500.

    Django has already logged the exception with its traceback (logger django.request).
    """
    # `error_page`: the page wears no kommune's look, which would ask the database for the reader.
    if is_connection_failure(sys.exc_info()[1]):
        response = render(request, "503.html", {"error_page": True}, status=503)
        response["Retry-After"] = "30"
        return response
    return render(request, "500.html", {"error_page": True}, status=500)


def csrf_failure(request, reason: str = ""):
    """A form sent without a valid CSRF token, most often from a page left open too long."""
    return render(request, "403_csrf.html", status=403)
