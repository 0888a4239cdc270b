"""Throttling of local logins that an attacker cannot turn against an employee.

Per account and per client address; the address comes from X-Forwarded-For only when settings say
how many proxies of our own stand in front; and no lock-out ever blocks a sign-in through the
kommune's own provider (which is against a real provider process here).
"""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY
from django.test import Client, RequestFactory

from signin.throttling import client_ip

from .factories import make_organisation, make_person, make_signin_config
from .oidc_providers import approve, path_and_query

pytestmark = pytest.mark.django_db

LOCKED = "For mange mislykkede innlogginger"


@pytest.fixture
def throttling(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_ADDRESS_FAILURE_LIMIT = 8
    AccessAttempt.objects.all().delete()


@pytest.fixture
def people(db):
    bergen = make_organisation("Bergen kommune", "bergen")
    return {
        name: make_person(
            bergen, username=name, email=f"{name}@bergen.test", password="riktig-passord-1"
        )
        for name in ("kari", "ola", "per")
    }


def log_in(username: str, password: str, address: str, forwarded: str | None = None):
    headers = {"REMOTE_ADDR": address}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return Client().post("/logg-inn/", {"username": username, "password": password}, **headers)


def request_from(address: str, forwarded: str | None = None):
    meta = {"REMOTE_ADDR": address}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **meta)


def test_without_trusted_proxies_the_forwarded_header_is_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request_from("198.51.100.7", "6.6.6.6")) == "198.51.100.7"


def test_behind_trusted_proxies_the_address_they_recorded_counts_and_nothing_further_left(
    settings,
):
    settings.TRUSTED_PROXY_COUNT = 1
    # The client wrote 6.6.6.6 itself; our proxy appended the address it saw.
    assert client_ip(request_from("10.0.0.1", "6.6.6.6, 203.0.113.9")) == "203.0.113.9"
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(request_from("10.0.0.1", "6.6.6.6, 203.0.113.9, 10.0.0.2")) == "203.0.113.9"
    # A header shorter than the proxies we trust did not come through them all.
    assert client_ip(request_from("10.0.0.1", "203.0.113.9")) == "10.0.0.1"
    # Something that is not an address is not believed (it would be stored as one).
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request_from("10.0.0.1", "unknown")) == "10.0.0.1"
    assert client_ip(request_from("10.0.0.1", "2001:db8::1")) == "2001:db8::1"


def test_an_account_locks_after_five_failures_from_any_addresses(throttling, people):
    for n in range(5):
        log_in("kari", "feil", f"203.0.113.{n}")
    response = log_in("kari", "riktig-passord-1", "198.51.100.1")
    assert response.status_code == 429 and LOCKED in response.content.decode()
    # Others, even from the same addresses, are not locked by Kari's attacker.
    assert log_in("ola", "riktig-passord-1", "203.0.113.1").status_code == 302


def test_an_address_locks_after_its_own_higher_limit_whoever_it_tries(throttling, people):
    # Failures spread over accounts: no account reaches five, the address reaches eight.
    for n in range(7):
        log_in(["kari", "ola"][n % 2], "feil", "203.0.113.66")
    # Seven is above the account limit but below the address limit: not locked yet.
    assert log_in("per", "riktig-passord-1", "203.0.113.66").status_code == 302
    log_in("ola", "feil", "203.0.113.66")
    assert log_in("per", "riktig-passord-1", "203.0.113.66").status_code == 429
    assert log_in("per", "riktig-passord-1", "203.0.113.67").status_code == 302


def test_behind_a_load_balancer_one_attacker_does_not_lock_the_whole_building(
    throttling, people, settings
):
    settings.TRUSTED_PROXY_COUNT = 1
    # Everyone arrives from the load balancer (10.0.0.1); the attacker's real address is recorded.
    for _ in range(8):
        log_in("kari", "feil", "10.0.0.1", forwarded="203.0.113.66")
    assert (
        log_in("ola", "riktig-passord-1", "10.0.0.1", forwarded="203.0.113.66").status_code == 429
    )
    assert (
        log_in("ola", "riktig-passord-1", "10.0.0.1", forwarded="198.51.100.5").status_code == 302
    )


def test_a_forged_forwarded_header_does_not_escape_the_address_limit_without_trusted_proxies(
    throttling, people
):
    for n in range(8):
        log_in(["kari", "ola"][n % 2], "feil", "203.0.113.66", forwarded=f"192.0.2.{n}")
    assert (
        log_in("per", "riktig-passord-1", "203.0.113.66", forwarded="192.0.2.99").status_code == 429
    )


def test_a_local_lock_out_never_blocks_the_same_persons_sign_in_through_the_kommune(
    throttling, people, oidc
):
    kari = people["kari"]
    make_signin_config(kari.organisation, oidc.bergen.issuer)
    # Kari's local account and her address are both locked.
    for n in range(8):
        log_in("kari" if n < 5 else "ola", "feil", "127.0.0.1")
    assert log_in("kari", "riktig-passord-1", "127.0.0.1").status_code == 429
    assert log_in("per", "riktig-passord-1", "127.0.0.1").status_code == 429

    client = Client(REMOTE_ADDR="127.0.0.1")
    start = client.get("/logg-inn/bergen/")
    response = client.get(path_and_query(approve(start["Location"], "kari@bergen.test")))
    assert response.status_code == 302 and response["Location"] == "/"
    assert int(client.session[SESSION_KEY]) == kari.pk
    assert client.get("/meg/").status_code == 200


def test_logging_in_to_ones_own_account_does_not_wipe_the_addresss_failures(throttling, people):
    for n in range(7):
        log_in(["kari", "ola"][n % 2], "feil", "203.0.113.66")
        # The attacker's own account, between the guesses.
        assert log_in("per", "riktig-passord-1", "203.0.113.66").status_code == 302
    log_in("kari", "feil", "203.0.113.66")
    assert log_in("per", "riktig-passord-1", "203.0.113.66").status_code == 429
