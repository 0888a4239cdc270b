"""The site's URLs plus a few that fail on purpose, so the error pages can be checked as pages.

Used by tests through `settings.ROOT_URLCONF = "tests.error_urls"`; never part of the real site.
"""

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.db import OperationalError
from django.shortcuts import render
from django.urls import path

from handbook.urls import handler400, handler403, handler404, handler500
from handbook.urls import urlpatterns as site_urlpatterns
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
    *site_urlpatterns,
]
