"""A cache of policy pages for anonymous readers, shared by every app server (the Redis cache).

Municipal guidelines are public documents and most readers are not logged in. The page is keyed by
everything whose change must show at once, and by the målform: the policy, its newest Event (every publish, retire,
restore, activation and settings change writes one in the same transaction), whether it is
retired, and the date (a scheduled version becomes current on its date). Only public policies are
cached, so making a policy internal takes effect as fast too. Anything else (a renamed
organisation) shows within CACHE_SECONDS.

A hit is answered by `AnonymousPageCacheMiddleware`, near the top of the middleware stack: before
sessions, authentication, CSRF, CSP and lock-outs, which a reader without cookies does not need.
Such a page is also marked for nginx (`X-Accel-Expires`, PROXY_SECONDS): nginx answers a page in
demand itself for that second (docs/deploy/nginx.conf), for less than a static file costs.
The stored response carries the headers those middlewares added when the page was rendered, so a
hit is byte for byte the page a miss would give.

The page in force is also remembered under a short-lived "current" entry (STAMP_SECONDS), so a
page in demand costs two cache reads and no query. That entry is named after a generation number
that every change increments when its transaction commits (`forget_policy_page`, called by the
audit-event writer): a server that read the old page just before the commit can only store it
under the old generation, which nobody asks for any more, so every server serves the new page on
its next request.
"""

from __future__ import annotations

import logging
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.db.models import Max
from django.http import HttpResponse
from django.urls import Resolver404, resolve
from django.utils import timezone, translation
from redis.exceptions import RedisError

from people.language import (
    language_for,
    organisation_language_key,
    remember_organisation_language,
)

from .models import Policy, Visibility

logger = logging.getLogger(__name__)

CACHE_SECONDS = 60
STAMP_SECONDS = 30
# A proxy in front (nginx, docs/deploy/nginx.conf) may keep a shareable page this long and answer
# it itself: the one staleness allowed after a change, also across servers.
PROXY_SECONDS = 1
_NOT_CACHEABLE = "-"
# Set by the view on a response that may be shared; read by the middleware.
_SHAREABLE = "_handbook_page_key"
# Headers that belong to one response only.
_NOT_STORED = {"set-cookie", "content-length"}


def cache_anonymous_page(view):
    """Mark a policy page rendered for an anonymous reader as shareable, with its cache key."""

    @wraps(view)
    def wrapper(request, org_slug: str, policy_slug: str):
        response = view(request, org_slug=org_slug, policy_slug=policy_slug)
        if _is_anonymous(request) and not request.user.is_authenticated:
            # The middleware has usually just worked the key out; do not ask the database twice.
            key = getattr(request, _SHAREABLE, None) or _with_language(
                _page_key(org_slug, policy_slug)[0], translation.get_language()
            )
            cacheable = (
                key != _NOT_CACHEABLE
                and response.status_code == 200
                and not response.streaming
                and not response.cookies
                # A page that rendered a CSRF token must not be shared.
                and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
            )
            if cacheable:
                setattr(response, _SHAREABLE, key)
        return response

    return wrapper


class AnonymousPageCacheMiddleware:
    """Answer an anonymous reader's policy page from the shared cache before the rest of the stack,
    and store such pages (with their final headers) on the way out."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        slugs = _policy_page(request) if _is_anonymous(request) else None
        current = None
        if slugs is not None:
            # The same page in another målform is another page (people.language decides which,
            # for a visitor from the cookie, the kommune and the browser, without the database).
            # One round trip to the cache for the generation and the kommune's målform, and the
            # generation before anything else is read (see the module's docstring).
            language_key = organisation_language_key(slugs[0])
            generation_key = _generation_key(*slugs)
            found = _get_many([language_key, generation_key])
            page_key = None
            organisation_language = found.get(language_key)
            if organisation_language is None:
                # A cold start: the page's key and the kommune's målform in one query.
                page_key, organisation_language = _page_key(*slugs)
                if organisation_language is not None:
                    remember_organisation_language(slugs[0], organisation_language)
            language = language_for(request, kommune_language=organisation_language)
            current = _current_key(*slugs, found.get(generation_key, 0), language)
            stored = _get(current)
            if stored is None:
                key = _with_language(page_key or _page_key(*slugs)[0], language)
                setattr(request, _SHAREABLE, key)
                if key != _NOT_CACHEABLE:
                    stored = _get(key)
                    if stored is not None:
                        _set(current, stored, STAMP_SECONDS)
            if stored is not None:
                return _for_proxy(_replay(stored))
        response = self.get_response(request)
        shareable = getattr(response, _SHAREABLE, None)
        if shareable is not None and current is not None and not response.cookies:
            stored = _stored(response)
            _set(shareable, stored, CACHE_SECONDS)
            _set(current, stored, STAMP_SECONDS)
            _for_proxy(response)
        return response


def forget_policy_page(policy: Policy, *, slug: str | None = None) -> None:
    """Start a new generation of `policy`'s "current page" entry: every server looks again.
    With `slug`, of the entry at that address of the policy instead (one it has just left).

    Call it after the change has committed (`transaction.on_commit`)."""
    generation = _generation_key(policy.organisation.slug, slug or policy.slug)
    try:
        cache.incr(generation)
    except ValueError:
        _set(generation, 1, None)
    except RedisError as exc:
        logger.warning("Page cache unreachable, page of %s not refreshed: %s", policy.pk, exc)


# A cache that is down costs speed, never a page: every read is a miss, every write is skipped.
_UNAVAILABLE = (RedisError, OSError)


def _get(key: str, default=None):
    try:
        return cache.get(key, default)
    except _UNAVAILABLE as exc:
        logger.warning("Page cache unreachable: %s", exc)
        return default


def _get_many(keys: list[str]) -> dict:
    try:
        return cache.get_many(keys)
    except _UNAVAILABLE as exc:
        logger.warning("Page cache unreachable: %s", exc)
        return {}


def _set(key: str, value, timeout) -> None:
    try:
        cache.set(key, value, timeout)
    except _UNAVAILABLE as exc:
        logger.warning("Page cache unreachable: %s", exc)


def _is_anonymous(request) -> bool:
    # Someone with a session or pending messages may see something personal: no cache.
    return (
        request.method == "GET"
        and not request.GET
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "messages" not in request.COOKIES
    )


def _policy_page(request) -> tuple[str, str] | None:
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return None
    if match.url_name != "policy_detail":
        return None
    return match.kwargs["org_slug"], match.kwargs["policy_slug"]


def _generation_key(org_slug: str, policy_slug: str) -> str:
    return f"policy-generation:{org_slug}:{policy_slug}"


def _current_key(org_slug: str, policy_slug: str, generation: int, language: str) -> str:
    return f"policy-current:{org_slug}:{policy_slug}:{generation}:{language}"


def _with_language(key: str, language: str) -> str:
    return key if key == _NOT_CACHEABLE else f"{key}:{language}"


def _stored(response) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = [(k, v) for k, v in response.items() if k.lower() not in _NOT_STORED]
    return response.status_code, headers, response.content


def _for_proxy(response: HttpResponse) -> HttpResponse:
    # nginx's own header: read (and removed) by nginx, never seen by a browser.
    if PROXY_SECONDS:
        response["X-Accel-Expires"] = str(PROXY_SECONDS)
    return response


def _replay(stored) -> HttpResponse:
    status, headers, content = stored
    response = HttpResponse(content, status=status)
    for name, value in headers:
        response[name] = value
    return response


def _page_key(org_slug: str, policy_slug: str) -> tuple[str, str | None]:
    """The cache key of the page as it is now (or _NOT_CACHEABLE), and the kommune's målform
    (None when not found), in one small query."""
    stamp = (
        Policy.objects.filter(
            organisation__slug=org_slug, slug=policy_slug, visibility=Visibility.PUBLIC
        )
        .annotate(last_event=Max("events__id"))
        .values_list("pk", "last_event", "retired_at", "organisation__language")
        .first()
    )
    if stamp is None:
        return _NOT_CACHEABLE, None
    pk, last_event, retired_at, language = stamp
    retired = int(retired_at.timestamp()) if retired_at else 0
    key = f"policy-page:{pk}:{last_event}:{retired}:{timezone.localdate().isoformat()}"
    return key, language
