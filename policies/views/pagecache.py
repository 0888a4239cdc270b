"""A short-lived cache of policy pages for anonymous readers.

Municipal guidelines are public documents and most readers are not logged in; rendering the page
costs three queries and the templates, serving it from the cache one small query. The key holds
everything whose change must show at once: the policy, its newest Event (every publish, retire,
restore and activation writes one in the same transaction), whether it is retired, and the date
(a scheduled version becomes current on its date). Only public policies are cached, so making a
policy internal takes effect as fast too. Anything else (a renamed organisation) shows within
CACHE_SECONDS.

The key itself is remembered for STAMP_SECONDS, so a page in demand costs no query at all: every
database round trip is a few milliseconds on a busy two-core machine, and a change shows within
those seconds.
"""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.db.models import Max
from django.http import HttpResponse
from django.utils import timezone, translation

from ..models import Policy, Visibility

CACHE_SECONDS = 60
STAMP_SECONDS = 2
_NOT_CACHEABLE = "-"


def cache_anonymous_page(view):
    """Serve a policy page to anonymous readers from the cache while nothing it shows has changed."""

    @wraps(view)
    def wrapper(request, org_slug: str, policy_slug: str):
        # Someone with a session or pending messages may see something personal: no cache.
        personal = (
            settings.SESSION_COOKIE_NAME in request.COOKIES
            or "messages" in request.COOKIES
            or request.user.is_authenticated
        )
        if request.method != "GET" or request.GET or personal:
            return view(request, org_slug=org_slug, policy_slug=policy_slug)
        key = _page_key(org_slug, policy_slug)
        if key == _NOT_CACHEABLE:
            return view(request, org_slug=org_slug, policy_slug=policy_slug)
        # The same page in another målform is another page.
        key = f"{key}:{translation.get_language()}"
        cached = cache.get(key)
        if cached is not None:
            return HttpResponse(cached, content_type="text/html; charset=utf-8")
        response = view(request, org_slug=org_slug, policy_slug=policy_slug)
        cacheable = (
            response.status_code == 200
            and not response.streaming
            and not response.cookies
            # A page that rendered a CSRF token must not be shared.
            and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        )
        if cacheable:
            cache.set(key, response.content, CACHE_SECONDS)
        return response

    return wrapper


def _page_key(org_slug: str, policy_slug: str) -> str:
    """The cache key of the page as it is now, or _NOT_CACHEABLE; itself cached for a moment."""
    stamp_key = f"policy-stamp:{org_slug}:{policy_slug}"
    key = cache.get(stamp_key)
    if key is not None:
        return key
    stamp = (
        Policy.objects.filter(
            organisation__slug=org_slug, slug=policy_slug, visibility=Visibility.PUBLIC
        )
        .annotate(last_event=Max("events__id"))
        .values_list("pk", "last_event", "retired_at")
        .first()
    )
    if stamp is None:
        key = _NOT_CACHEABLE
    else:
        pk, last_event, retired_at = stamp
        retired = int(retired_at.timestamp()) if retired_at else 0
        key = f"policy-page:{pk}:{last_event}:{retired}:{timezone.localdate().isoformat()}"
    if STAMP_SECONDS:
        cache.set(stamp_key, key, STAMP_SECONDS)
    return key
