"""The policy page: what every reader sees from the shared cache, and only the personal parts
rendered on each request.

The page a signed-in person gets differs from everyone else's in a few places only: the main
menu (their name and roles, a CSRF token), the language switch, messages, the confirmation
banner, the review note and the confirmation block. Everything else (header and footer in the
kommune's look, the text, its table of contents, the version history) is the same for every
reader of the policy in that målform, and costs most of the page's time to render. An anonymous
reader's page is made the same way (their parts: "Logg inn", the language switch without a form
token), so that a page the anonymous page cache does not hold is not rendered whole either.

So the page is rendered once without those parts, with a random marker where each goes
(`reading/policy_shared.html`; rendered without the request, so nothing about the reader can
get in), and kept in the shared cache (Redis) under a key made of everything it shows:

- the policy, and how many audit events it has and the newest one: every publish, activation,
  retirement, settings change and translation writes one in the same transaction
  (policies.audit), and the table is append-only, so any committed change gives a new key,
  whatever order concurrent transactions commit in;
- whether it is retired, and today's date (a scheduled version becomes current on its date);
- the målform asked for (?sprak=) and the interface's (the person's own choice);
- the kommune's name and look (header and footer).

Those values are read with the policy in the one query that checks the reader may read it, so a
change is on the page at the very next request on any app server. On each request the personal
parts are rendered from `reading/_policy_personal.html` and put in the markers' places; the
obligation they show is read on every request too.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from dataclasses import dataclass
from types import SimpleNamespace

from django.contrib.messages import get_messages
from django.core.cache import cache
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from redis.exceptions import RedisError

from .kept import TOKEN, Kept, with_token
from .models import Policy

logger = logging.getLogger(__name__)

SHARED_TEMPLATE = "reading/policy_shared.html"
PERSONAL_TEMPLATE = "reading/_policy_personal.html"
# The personal parts, in the order they stand on the page (both templates follow it).
HOLES = 6
# Another kommune's renamed name ("Basert på …") or a new release of the templates shows within
# this; everything else named in the module's docstring at once.
CACHE_SECONDS = 60
_UNAVAILABLE = (RedisError, OSError)


@dataclass(frozen=True)
class SharedPage:
    """The page without its personal parts, and what those parts need to know about it."""

    marker: str
    html: str
    # A confirmation may be given on it (the version in force, not awaiting its activation).
    confirmable: bool
    # What the confirmation form and the review note read (plain values, nothing from the
    # database is kept in the cache): version.number/text_hash/language, text.*, current.*.
    version: SimpleNamespace
    text: SimpleNamespace
    current: SimpleNamespace | None
    # time.time() when rendered: no copy of it is served after CACHE_SECONDS.
    rendered_at: float


def key(policy: Policy, wanted: str | None) -> str:
    """The cache key of `policy`'s shared page as it is now (see the module's docstring).

    `policy` comes from access.get_readable_policy_page, with its events counted.
    """
    organisation = policy.organisation
    look = hashlib.sha256(
        repr(
            (
                organisation.slug,
                organisation.name,
                organisation.accent_color,
                organisation.logo.name,
                organisation.contact,
                organisation.contact_email,
                organisation.contact_phone,
                organisation.privacy_url,
                organisation.look_updated_at,
            )
        ).encode()
    ).hexdigest()[:16]
    retired = int(policy.retired_at.timestamp()) if policy.retired_at else 0
    return (
        f"policy-shared:{policy.pk}:{policy.events_seen}:{policy.last_event}:{retired}:"
        f"{timezone.localdate().isoformat()}:{get_language()}:{wanted or '-'}:{look}"
    )


def get(page_key: str) -> SharedPage | None:
    page = _recent_page(page_key)
    if page is not None:
        return page
    try:
        page = cache.get(page_key)
    except _UNAVAILABLE as exc:
        logger.warning("Page cache unreachable: %s", exc)
        return None
    if page is not None:
        _remember(page_key, page)
    return page


# Each app process also keeps the pages it served last, for no longer than the shared cache does
# (CACHE_SECONDS from when the page was rendered). The key names everything the page shows, so a
# page found under it here is as right as the one in Redis; a page in demand then costs no round
# trip to Redis and no unpickling of its HTML.
RECENT_PAGES = 100
_recent = Kept(RECENT_PAGES)


def _recent_page(page_key: str) -> SharedPage | None:
    page = _recent.get(page_key)
    if page is not None and time.time() - page.rendered_at >= CACHE_SECONDS:
        _recent.discard(page_key)
        return None
    return page


def _remember(page_key: str, page: SharedPage) -> None:
    if time.time() - getattr(page, "rendered_at", 0) < CACHE_SECONDS:
        _recent.put(page_key, page)


def forget_recent() -> None:
    """Empty this process's copies (tests, with the shared cache)."""
    _recent.clear()


def render_shared(context: dict, *, confirmable: bool) -> SharedPage:
    """Render the page of `context` (reading.views._page_context) without its personal parts."""
    marker = f"<!--personal-{secrets.token_hex(16)}-->"
    version, text, current = context["version"], context["text"], context["current"]
    # No request: no context processor, so nothing about the reader can reach the shared page.
    html = render_to_string(SHARED_TEMPLATE, {**context, "personal_part": _safe(marker)})
    return SharedPage(
        marker=marker,
        html=html,
        confirmable=confirmable,
        version=SimpleNamespace(
            number=version.number, text_hash=version.text_hash, language=version.language
        ),
        text=SimpleNamespace(
            text_hash=text.text_hash,
            language=text.language,
            is_translation=text.is_translation,
            language_label=text.language_label,
        ),
        current=SimpleNamespace(
            effective_from=current.effective_from, published_at=current.published_at
        )
        if current is not None
        else None,
        rendered_at=time.time(),
    )


def _safe(marker: str):
    return mark_safe(marker)  # noqa: S308 - an HTML comment of our own random hex digits


def put(page_key: str, page: SharedPage) -> None:
    _remember(page_key, page)
    try:
        cache.set(page_key, page, CACHE_SECONDS)
    except _UNAVAILABLE as exc:
        logger.warning("Page cache unreachable: %s", exc)


def respond(request, page: SharedPage, *, policy: Policy, obligation) -> HttpResponse:
    """The whole page: `page` with this reader's parts rendered into its markers."""
    # One CSRF token for every form of the page, as the context processor would give it. An
    # anonymous reader's parts have no form that needs one; asking for it would set a CSRF cookie,
    # and a page that sets a cookie is not shared from the caches (policies.pagecache, nginx).
    signed_in = request.user.is_authenticated
    token = get_token(request) if signed_in else ""
    context = {
        "organisation": policy.organisation,
        "policy": policy,
        "version": page.version,
        "text": page.text,
        "current": page.current,
        "obligation": obligation,
        "personal_part": _safe(page.marker),
    }
    if signed_in:
        context["csrf_token"] = token
    context["obligation_parts"] = _obligation_parts(request, context, token)
    personal = render_to_string(PERSONAL_TEMPLATE, context, request=request)
    shared_parts = page.html.split(page.marker)
    personal_parts = personal.split(page.marker)
    if len(shared_parts) != HOLES + 1 or len(personal_parts) != HOLES:
        raise RuntimeError("The shared and personal policy page templates no longer match.")
    pieces = [shared_parts[0]]
    for mine, shared in zip(personal_parts, shared_parts[1:], strict=True):
        pieces += [mine, shared]
    return HttpResponse("".join(pieces))


# The confirmation banner and the confirmation block show the reader's obligation, and most
# readers of a page share it: everyone in the audience who has not confirmed yet has the same
# state and, unless they joined their unit later, the same deadline. So the two are rendered once
# per process for each such obligation (OBLIGATION_PARTS_KEPT of them), from a snapshot of exactly
# the values they read (_snapshot), with the CSRF token put in afterwards. Given nothing else,
# anything else they came to use would be empty on every page, and the page from parts would no
# longer be the page rendered whole (tests/test_pageparts.py). A reader with a message waiting
# (the receipt after confirming, among others) gets them rendered in place.
OBLIGATION_TEMPLATES = ("employee/_confirm_banner.html", "employee/_confirmation.html")
OBLIGATION_PARTS_KEPT = 512
_obligation_parts_kept = Kept(OBLIGATION_PARTS_KEPT)


def _obligation_parts(request, context: dict, token: str) -> tuple[str, str]:
    if len(get_messages(request)):
        return tuple(
            _safe(render_to_string(name, context, request=request)) for name in OBLIGATION_TEMPLATES
        )
    policy, version, text = context["policy"], context["version"], context["text"]
    snapshot = _snapshot(context["obligation"])
    key = (
        get_language(),
        timezone.localdate(),
        policy.organisation.slug,
        policy.slug,
        tuple(vars(version).items()),
        tuple(vars(text).items()),
        None if snapshot is None else tuple(vars(snapshot).items()),
    )

    def render() -> tuple[str, str]:
        given = {
            "policy": SimpleNamespace(
                slug=policy.slug, organisation=SimpleNamespace(slug=policy.organisation.slug)
            ),
            "version": version,
            "text": text,
            "obligation": snapshot,
            "messages": (),
            "csrf_token": TOKEN,
        }
        return tuple(render_to_string(name, given) for name in OBLIGATION_TEMPLATES)

    parts = _obligation_parts_kept.get_or_make(key, render)
    return tuple(_safe(with_token(part, token)) for part in parts)


def _snapshot(obligation) -> SimpleNamespace | None:
    """The values of `obligation` the two templates read (properties evaluated today)."""
    if obligation is None:
        return None
    return SimpleNamespace(
        is_confirmed=obligation.is_confirmed,
        is_overdue=obligation.is_overdue,
        state=obligation.state,
        effective_from=obligation.effective_from,
        deadline=obligation.deadline,
        acknowledged_number=obligation.acknowledged_number,
        current_number=obligation.current_number,
        current_acknowledged=obligation.current_acknowledged,
        acknowledged_at=obligation.acknowledged_at,
        last_acknowledgement_id=obligation.last_acknowledgement_id,
        changes_url=obligation.changes_url,
    )
