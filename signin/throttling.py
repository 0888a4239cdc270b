"""Login throttling for local accounts (django-axes), per account and per client address.

Only username/password logins are throttled: a sign-in through the kommune's provider never calls
Django's authenticate(), so no lock-out here can ever block it.
"""

from __future__ import annotations

import ipaddress

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: REMOTE_ADDR, or behind our own proxies, the address they recorded.

    With TRUSTED_PROXY_COUNT = N (the proxies we run in front of gunicorn, each appending the
    address it saw to X-Forwarded-For), the client is the N-th entry from the right. Entries
    further left were written by the client itself and are never believed. Without trusted
    proxies the header is ignored altogether.
    """
    remote = request.META.get("REMOTE_ADDR")
    hops = settings.TRUSTED_PROXY_COUNT
    if hops <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < hops:
        return remote
    candidate = forwarded[-hops]
    try:
        # Whatever ends up here is stored as an address; anything else is not believed.
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


class Handler(AxesDatabaseHandler):
    """Two limits instead of django-axes' one: per account and (higher) per address.

    AXES_LOCKOUT_PARAMETERS is ["username", "ip_address"], so axes counts the failures of this
    account and of this address separately; axes compares the larger with AXES_FAILURE_LIMIT.
    The address count is scaled so that it reaches that limit at AXES_ADDRESS_FAILURE_LIMIT:
    a whole town hall behind one address is not locked out by one person's typos.
    """

    def get_failures(self, request, credentials=None) -> int:
        per_account, per_address = (
            sum(attempts.values_list("failures_since_start", flat=True))
            for attempts in self.get_user_attempts(request, credentials)
        )
        limit, address_limit = settings.AXES_FAILURE_LIMIT, settings.AXES_ADDRESS_FAILURE_LIMIT
        return max(per_account, per_address * limit // address_limit)

    def reset_user_attempts(self, request, credentials=None) -> int:
        """After a successful login, forget that account's failures, and nothing else.

        django-axes would forget everything matching any lockout parameter, i.e. every failure from
        the same address: an attacker with an account of his own could then log in between guesses
        and never reach the address limit.
        """
        username = get_client_username(request, credentials)
        if not username:
            return 0
        count, _ = AccessAttempt.objects.filter(username=username).delete()
        return count
