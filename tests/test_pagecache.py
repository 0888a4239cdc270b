import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from people.models import Person
from policies.authoring import change_settings
from policies.models import Visibility
from policies.pagecache import _current_key, _generation_key
from policies.workflow import retire

from .factories import make_organisation, make_policy, publish_version

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache():
    # The cache as production runs it (STAMP_SECONDS as set): a change is seen at once only because
    # its commit starts a new generation of the page, so every change below commits its callbacks.
    cache.clear()
    yield
    cache.clear()


def test_once_the_remembered_key_has_expired_a_view_is_served_from_the_cache_with_one_query(
    client,
):
    policy = make_policy(make_organisation(), body="## Om\n\nFørste tekst.\n")
    first = client.get(policy.get_absolute_url())
    # What STAMP_SECONDS later looks like: the short-lived "current" entry is gone, the page is not.
    org, slug = policy.organisation.slug, policy.slug
    cache.delete(_current_key(org, slug, cache.get(_generation_key(org, slug), 0), "nb"))
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


def test_a_new_version_shows_at_once(client, django_capture_on_commit_callbacks):
    policy = make_policy(make_organisation(), body="## Om\n\nFørste tekst.\n")
    client.get(policy.get_absolute_url())
    with django_capture_on_commit_callbacks(execute=True):
        publish_version(policy, body="## Om\n\nAndre tekst.\n")
    assert "Andre tekst" in client.get(policy.get_absolute_url()).content.decode()


def test_retiring_shows_at_once(client, django_capture_on_commit_callbacks):
    policy = make_policy(make_organisation())
    client.get(policy.get_absolute_url())
    with django_capture_on_commit_callbacks(execute=True):
        retire(policy, by=None)
    assert "trukket tilbake" in client.get(policy.get_absolute_url()).content.decode()


def test_a_policy_made_internal_is_no_longer_served_to_anonymous_readers(
    client, django_capture_on_commit_callbacks
):
    policy = make_policy(make_organisation())
    assert client.get(policy.get_absolute_url()).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        change_settings(policy, by=None, visibility=Visibility.INTERNAL)
    response = client.get(policy.get_absolute_url())
    assert response.status_code == 302 and response["Location"].startswith("/logg-inn/")


def test_logged_in_readers_never_get_the_anonymous_page(client, handbook):
    client.get("/moskenes/sosiale-medier/")
    client.force_login(Person.objects.get(username="ansatt.moskenes"))
    assert "Jeg har lest og forstått" in client.get("/moskenes/sosiale-medier/").content.decode()


def test_a_change_is_served_at_once_even_while_the_page_is_in_demand(
    client, django_capture_on_commit_callbacks
):
    policy = make_policy(make_organisation(), body="## Om\n\nFørste tekst.\n")
    client.get(policy.get_absolute_url())
    with CaptureQueriesContext(connection) as queries:
        assert "Første tekst" in client.get(policy.get_absolute_url()).content.decode()
    assert len(queries) == 0
    # The publish's commit starts a new generation of the page (every server looks again).
    with django_capture_on_commit_callbacks(execute=True):
        publish_version(policy, body="## Om\n\nAndre tekst.\n")
    assert "Andre tekst" in client.get(policy.get_absolute_url()).content.decode()


def test_a_cache_hit_is_the_page_with_the_same_headers_and_no_cookie(client):
    policy = make_policy(make_organisation())
    miss = client.get(policy.get_absolute_url())
    hit = client.get(policy.get_absolute_url())
    assert hit.content == miss.content
    for header in (
        "Content-Type",
        "Content-Security-Policy",
        "X-Frame-Options",
        "X-Content-Type-Options",
        "Referrer-Policy",
    ):
        assert hit[header] == miss[header], header
    assert not hit.cookies


def test_a_cache_that_is_down_costs_speed_not_the_page(client, settings):
    from .ports import free_port

    # Nothing listens there (Django's test signals give the new setting a fresh cache handler).

    settings.CACHES = {
        "default": {
            "BACKEND": "handbook.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    policy = make_policy(make_organisation(), body="## Om\n\nTeksten.\n")
    for _ in range(2):
        response = client.get(policy.get_absolute_url())
        assert response.status_code == 200 and "Teksten" in response.content.decode()


def test_only_a_shareable_page_may_be_kept_by_the_proxy(client, handbook):
    # nginx keeps what carries X-Accel-Expires (docs/deploy/nginx.conf) and answers it itself.
    miss = client.get("/moskenes/sosiale-medier/")
    hit = client.get("/moskenes/sosiale-medier/")
    assert miss["X-Accel-Expires"] == hit["X-Accel-Expires"] == "1"
    assert "X-Accel-Expires" not in client.get("/moskenes/sosiale-medier/?a=1")
    assert "X-Accel-Expires" not in client.get("/moskenes/")
    client.force_login(Person.objects.get(username="ansatt.moskenes"))
    assert "X-Accel-Expires" not in client.get("/moskenes/sosiale-medier/")
