"""The site's URLs plus a few that fail on purpose, so the error pages can be checked as pages.

Used by tests through `settings.ROOT_URLCONF = "tests.error_urls"`; never part of the real site.
"""

import socket

import psycopg
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.db import OperationalError, connection
from django.shortcuts import render
from django.urls import path

from handbook.urls import handler400, handler403, handler404, handler500
from handbook.urls import urlpatterns as site_urlpatterns
from people.models import Organisation
from policies.models import PolicyVersion
from policies.views.errors import csrf_failure

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]


def fail_with_bad_request(request):
    raise SuspiciousOperation("test: a request the site refuses")


def fail_with_permission_denied(request):
    raise PermissionDenied


def fail_with_server_error(request):
    raise RuntimeError("test: an unexpected error")


def fail_with_database_down(request):
    raise OperationalError("test: connection refused")


def fail_with_lost_connection(request):
    # A real connection failure: psycopg cannot reach a port nobody listens on, and Django wraps
    # the error exactly as it does when the database goes away under a running request.
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    with connection.wrap_database_errors:
        psycopg.connect(host="127.0.0.1", port=port, dbname="x", connect_timeout=2)


def fail_with_integrity_error(request):
    # A real constraint violation from PostgreSQL: two organisations with the same address.
    Organisation.objects.create(name="Feilkommune A", slug="feilkommune")
    Organisation.objects.create(name="Feilkommune B", slug="feilkommune")


def fail_with_frozen_version(request):
    # The immutability trigger refusing a change to a published version.
    PolicyVersion.objects.filter(status="published").update(body="Endret i ettertid.")


def show_csrf_failure(request):
    return csrf_failure(request, reason="test")


def show_locked_out(request):
    # The page django-axes shows after too many failed logins (tests/test_security.py locks for real).
    return render(request, "registration/locked_out.html", status=429)


urlpatterns = [
    path("test-feil/csrf/", show_csrf_failure),
    path("test-feil/laast/", show_locked_out),
    path("test-feil/400/", fail_with_bad_request),
    path("test-feil/403/", fail_with_permission_denied),
    path("test-feil/500/", fail_with_server_error),
    path("test-feil/503/", fail_with_database_down),
    path("test-feil/tapt-forbindelse/", fail_with_lost_connection),
    path("test-feil/integritet/", fail_with_integrity_error),
    path("test-feil/frosset/", fail_with_frozen_version),
    *site_urlpatterns,
]
