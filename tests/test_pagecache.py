import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from people.models import Person
from policies.models import Policy, Visibility
from policies.workflow import retire

from .factories import make_organisation, make_policy, publish_version

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def _stamp_expires(policy) -> None:
    """What STAMP_SECONDS passing does: the remembered key of the page is gone (production's
    settings are kept, so the tests take the same branches as a production request)."""
    cache.delete(f"policy-stamp:{policy.organisation.slug}:{policy.slug}")


def test_a_second_anonymous_view_is_served_from_the_cache_with_one_query(client):
    policy = make_policy(make_organisation(), body="## Om\n\nFørste tekst.\n")
    first = client.get(policy.get_absolute_url())
    _stamp_expires(policy)
    with CaptureQueriesContext(connection) as queries:
        second = client.get(policy.get_absolute_url())
    assert len(queries) == 1
    assert second.content == first.content


def test_a_page_in_demand_costs_no_query_while_its_key_is_remembered(client):
    policy = make_policy(make_organisation())
    client.get(policy.get_absolute_url())
    with CaptureQueriesContext(connection) as queries:
        assert client.get(policy.get_absolute_url()).status_code == 200
    assert len(queries) == 0


def test_a_new_version_shows_as_soon_as_the_remembered_key_expires(client):
    policy = make_policy(make_organisation(), body="## Om\n\nFørste tekst.\n")
    client.get(policy.get_absolute_url())
    publish_version(policy, body="## Om\n\nAndre tekst.\n")
    # Within STAMP_SECONDS the page in the cache is still served, as the module promises.
    assert "Første tekst" in client.get(policy.get_absolute_url()).content.decode()
    _stamp_expires(policy)
    assert "Andre tekst" in client.get(policy.get_absolute_url()).content.decode()


def test_retiring_shows_as_soon_as_the_remembered_key_expires(client):
    policy = make_policy(make_organisation())
    client.get(policy.get_absolute_url())
    retire(policy, by=None)
    _stamp_expires(policy)
    assert "trukket tilbake" in client.get(policy.get_absolute_url()).content.decode()


def test_a_policy_made_internal_is_no_longer_served_to_anonymous_readers(client):
    policy = make_policy(make_organisation())
    assert client.get(policy.get_absolute_url()).status_code == 200
    Policy.objects.filter(pk=policy.pk).update(visibility=Visibility.INTERNAL)
    _stamp_expires(policy)
    response = client.get(policy.get_absolute_url())
    assert response.status_code == 302 and response["Location"].startswith("/logg-inn/")


def test_logged_in_readers_never_get_the_anonymous_page(client, handbook):
    client.get("/moskenes/sosiale-medier/")
    client.force_login(Person.objects.get(username="ansatt.moskenes"))
    assert "Jeg har lest og forstått" in client.get("/moskenes/sosiale-medier/").content.decode()
