"""Endpoints for the machines that watch the portal: the health check and the metrics."""

from __future__ import annotations

import hmac
import ipaddress
import json
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import Http404, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from signin.throttling import client_ip

from . import metrics
from .queue import queue_status


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return "feil"
    return "ok"


def _cache() -> str:
    # A round trip through the shared cache: write a fresh value and read it back.
    key, value = "helse:probe", uuid.uuid4().hex
    try:
        cache.set(key, value, timeout=10)
        return "ok" if cache.get(key) == value else "feil"
    except Exception:  # noqa: BLE001 (any cache backend's error means "not working")
        return "feil"


def _queue() -> str:
    try:
        return "ikke i bruk" if queue_status() is None else "ok"
    except DatabaseError:
        return "feil"


@never_cache
@require_GET
def health(request):
    """Each part on its own: {"database": "ok", "cache": "ok", "queue": "ok"}.

    200 when the database and the cache work (this server can serve pages), 503 otherwise, so a load
    balancer takes the server out. A failing queue is reported but keeps the status at 200: pages
    still work, and e-mails wait in the outbox until it is back. Reveals nothing else.
    """
    parts = {"database": _database(), "cache": _cache(), "queue": _queue()}
    serving = parts["database"] == "ok" and parts["cache"] == "ok"
    return HttpResponse(
        json.dumps(parts, ensure_ascii=False) + "\n",
        status=200 if serving else 503,
        content_type="application/json",
    )


def _may_scrape(request) -> bool:
    """A scraper proves itself with the bearer token, from an allowed network if one is set."""
    token = settings.METRICS_TOKEN
    if not token:
        return False
    offered = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(offered.encode(), token.encode()):
        return False
    if settings.METRICS_ALLOWED_NETWORKS:
        # Behind nginx REMOTE_ADDR is nginx's own address: the scraper's is the one our proxies
        # recorded (TRUSTED_PROXY_COUNT), as for the sign-in throttling.
        address = ipaddress.ip_address(client_ip(request) or "0.0.0.0")  # noqa: S104
        return any(address in network for network in settings.METRICS_ALLOWED_NETWORKS)
    return True


@never_cache
@require_GET
def prometheus_metrics(request):
    """Prometheus text format for a scraper with the token; a plain 404 for everyone else."""
    if not _may_scrape(request):
        # 404, not 403: the public is not told that there is something here.
        raise Http404
    return HttpResponse(metrics.render(), content_type=CONTENT_TYPE_LATEST)
