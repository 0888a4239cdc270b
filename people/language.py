"""Which målform the interface speaks to this request.

språklova makes the choice the kommune's and gives each person a right to their own form, so the
order is: the person's own choice (stored on the person, or for a visitor the language cookie set by
the switch in the header), then the kommune's målform (the person's own kommune, or for a visitor the
kommune whose pages they read), then the browser's Accept-Language, then bokmål.

What is sent to a person (e-mail) follows the same order without the browser: `person_language`
for one person, `person_language_sql` for a set of them in one statement.
"""

from __future__ import annotations

import contextlib

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError
from django.db.models import Case, Value, When
from django.http import HttpRequest
from django.urls import Resolver404, resolve
from django.utils import translation
from django.utils.cache import patch_vary_headers
from redis.exceptions import RedisError

from .models import Organisation

# A kommune's målform changes rarely; a visitor's page should not cost a query to learn it.
ORGANISATION_LANGUAGE_SECONDS = 60


def language_codes() -> list[str]:
    """The målformer the interface has catalogues for (settings.LANGUAGES), in their order."""
    return [code for code, _name in settings.LANGUAGES]


def supported(language: object) -> str | None:
    """`language` if it is a målform the interface has (anything else, e.g. a stray query
    parameter, gives None)."""
    return language if isinstance(language, str) and language in language_codes() else None


def preferred_language(chosen: str | None, kommune: str | None) -> str | None:
    """The person's own choice, else the kommune's målform; None when neither is a language the
    interface has (a neutral kommune and no choice of one's own). The one rule of whose form wins."""
    return supported(chosen) or supported(kommune)


def person_language(chosen: str | None, kommune: str | None) -> str:
    """The language a person reads what is sent to them in (e-mail): `preferred_language`, and
    bokmål (LANGUAGE_CODE) where that leaves nothing — an e-mail has no browser to ask."""
    return preferred_language(chosen, kommune) or settings.LANGUAGE_CODE


def person_language_sql(kommune: str | None, *, field: str = "language") -> Case:
    """`person_language` for each row of a query over people of one kommune (målform `kommune`),
    as an SQL expression on the person's `field`: the rule above, evaluated for every choice a
    person can have stored, so a set-based write needs no second version of it."""
    return Case(
        *(
            When(**{field: code}, then=Value(person_language(code, kommune)))
            for code in language_codes()
        ),
        default=Value(person_language("", kommune)),
    )


def organisation_language(slug: str) -> str:
    """The målform of the organisation at /<slug>/ ('' when neutral or unknown), cached briefly."""
    language = cached_organisation_language(slug)
    if language is None:
        try:
            language = (
                Organisation.objects.filter(slug=slug).values_list("language", flat=True).first()
                or ""
            )
        except DatabaseError:
            # A page the cache can still serve while the database is away is served in the
            # browser's language rather than not at all.
            return ""
        remember_organisation_language(slug, language)
    return language


# The cache is shared (Redis); when it is unreachable a page still gets its language, only slower.
_CACHE_DOWN = (RedisError, OSError)


def organisation_language_key(slug: str) -> str:
    """The cache key of the målform of the organisation at /<slug>/ (for reading it with others)."""
    return f"org-language:{slug}"


def cached_organisation_language(slug: str) -> str | None:
    """The målform of the organisation at /<slug>/ if the cache has it, else None (no query)."""
    try:
        return cache.get(organisation_language_key(slug))
    except _CACHE_DOWN:
        return None


def remember_organisation_language(slug: str, language: str) -> None:
    """Keep the målform of the organisation at /<slug>/ in the cache for a while."""
    with contextlib.suppress(_CACHE_DOWN):
        cache.set(organisation_language_key(slug), language or "", ORGANISATION_LANGUAGE_SECONDS)


def _page_organisation_slug(request: HttpRequest) -> str | None:
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return None
    return match.kwargs.get("org_slug")


def language_for(request: HttpRequest, *, kommune_language: str | None = None) -> str:
    """The interface language for this request, by the order in the module docstring.

    A caller that already knows the målform of the kommune whose page a visitor reads passes it
    as `kommune_language` (the page cache does, to ask the cache once)."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        chosen = user.language
        kommune = user.organisation.language if user.organisation_id else ""
    else:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        kommune = kommune_language
        if kommune is None:
            slug = _page_organisation_slug(request)
            kommune = organisation_language(slug) if slug else ""
    # Neutral kommune or none, and no choice of one's own: the browser's preference among the
    # languages we have.
    return (
        preferred_language(chosen, kommune)
        or translation.get_language_from_request(request)
        or settings.LANGUAGE_CODE
    )


class LanguageMiddleware:
    """Activate the language chosen by `language_for` for the whole request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        language = language_for(request)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        # The same address answers in another language for another cookie or browser.
        patch_vary_headers(response, ("Accept-Language", "Cookie"))
        response.headers.setdefault("Content-Language", language)
        return response
