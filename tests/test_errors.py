"""Which failures are "prøv igjen om litt" (503) and which are our own bugs (500, logged with cause)."""

import logging

import pytest
from django.contrib import admin
from django.db import IntegrityError

from policies.models import PolicyVersion

from .factories import make_organisation, make_person, make_policy

pytestmark = pytest.mark.django_db


@pytest.fixture
def error_client(client, settings):
    settings.ROOT_URLCONF = "tests.error_urls"
    client.raise_request_exception = False
    return client


def _logged_cause(caplog) -> BaseException | None:
    records = [r for r in caplog.records if r.name == "django.request" and r.exc_info]
    assert records, "the error was not logged with its traceback"
    return records[-1].exc_info[1]


def test_a_lost_database_connection_is_a_503_that_asks_to_try_again(error_client):
    response = error_client.get("/test-feil/tapt-forbindelse/")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "Prøv igjen om litt" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_an_integrity_error_is_a_500_logged_with_its_cause_not_an_outage(error_client, caplog):
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = error_client.get("/test-feil/integritet/")
    assert response.status_code == 500
    assert "midlertidig utilgjengelig" not in response.content.decode()
    cause = _logged_cause(caplog)
    assert isinstance(cause, IntegrityError)
    assert "unique" in str(cause).lower()


def test_the_immutability_trigger_is_a_500_logged_with_its_cause(error_client, caplog):
    make_policy(make_organisation())
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = error_client.get("/test-feil/frosset/")
    assert response.status_code == 500
    cause = _logged_cause(caplog)
    assert "A published policy version cannot be changed" in str(cause)


def test_the_admin_refuses_to_delete_a_published_version_without_a_server_error(client):
    policy = make_policy(make_organisation())
    version = policy.versions.get()
    admin_user = make_person(username="superbruker", is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    model_admin = admin.site._registry[PolicyVersion]
    assert not model_admin.has_delete_permission(None, version)

    response = client.post(f"/admin/policies/policyversion/{version.pk}/delete/", {"post": "yes"})

    assert response.status_code == 403
    assert PolicyVersion.objects.filter(pk=version.pk).exists()
