"""The målform switch in the header: works without JavaScript, for visitors and people alike."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from handbook.http import post_only

from .language import supported
from .models import Person


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"


@csrf_protect
def _choose_for_person(request: HttpRequest, language: str) -> HttpResponse:
    # A person's choice is stored on the person, so it follows them to every device.
    Person.objects.filter(pk=request.user.pk).update(language=language)
    return HttpResponseRedirect(_next_url(request))


@post_only("home")
@csrf_exempt
def choose_language(request: HttpRequest) -> HttpResponse:
    """Set the interface language ('' = the kommune's målform), then go back to the page.

    A visitor's choice is only a cookie: there is nothing to forge, and the header form carries no
    CSRF token so that public pages stay shareable in the page cache. A signed-in person's choice is
    written to the database, so that path checks the CSRF token like every other write.
    """
    language = request.POST.get("language", "")
    if language and not supported(language):
        language = ""
    if request.user.is_authenticated:
        return _choose_for_person(request, language)
    response = HttpResponseRedirect(_next_url(request))
    if language:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=True,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
    else:
        response.delete_cookie(settings.LANGUAGE_COOKIE_NAME)
    return response
