"""Sessions read from the shared cache and kept in the database (people.sessions)."""

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from people.sessions import SessionStore

from .factories import make_organisation, make_person, make_policy

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _shared_cache():
    if settings.SESSION_ENGINE != "people.sessions":
        pytest.skip("sessions are read from the cache only with a shared cache (REDIS_URL)")


def _signed_in(password="hemmelig-passord-1"):
    person = make_person(make_organisation())
    person.set_password(password)
    person.save()
    client = Client()
    assert (
        client.post("/logg-inn/", {"username": person.username, "password": password}).status_code
        == 302
    )
    return person, client


def _no_session_query(queries) -> bool:
    return not any("django_session" in q["sql"] for q in queries)


def test_a_signed_in_page_reads_the_session_from_the_cache_and_not_the_database():
    person, client = _signed_in()
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/meg/").status_code == 200
    assert _no_session_query(queries), [q["sql"] for q in queries]
    # ... and the database still holds it: the cache is a copy.
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert Session.objects.get(session_key=key).get_decoded()[SESSION_KEY] == str(person.pk)


def test_a_session_survives_a_cache_that_forgot_it():
    _, client = _signed_in()
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    SessionStore(key)._cache.delete(SessionStore(key).cache_key)
    assert client.get("/meg/").status_code == 200


def test_signing_out_on_one_server_signs_out_on_every_server():
    _, client = _signed_in()
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    # Another server: the same cookie in another client.
    other = Client()
    other.cookies[settings.SESSION_COOKIE_NAME] = key
    assert other.get("/meg/").status_code == 200
    assert client.post("/logg-ut/").status_code in (200, 302)
    response = other.get("/meg/")
    assert response.status_code == 302 and response["Location"].startswith("/logg-inn/")


def test_a_server_that_read_the_session_just_before_the_sign_out_cannot_bring_it_back():
    _, client = _signed_in()
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    # Server B read the session from the database (a cache miss) ...
    late = SessionStore(key)
    stored = late._get_session_from_db()
    data = late.decode(stored.session_data)
    # ... the person signs out on server A ...
    assert client.post("/logg-ut/").status_code in (200, 302)
    # ... and only then does B fill the cache with what it read.
    late.remember(data, 3600)
    other = Client()
    other.cookies[settings.SESSION_COOKIE_NAME] = key
    response = other.get("/meg/")
    assert response.status_code == 302 and response["Location"].startswith("/logg-inn/")


def test_with_the_cache_down_a_signed_in_page_reads_the_session_from_the_database(settings):
    from .ports import free_port

    person, client = _signed_in()
    policy = make_policy(person.organisation)
    settings.CACHES = {
        "default": {
            "BACKEND": "handbook.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    response = client.get(policy.get_absolute_url())
    assert response.status_code == 200 and "Logg ut" in response.content.decode()


def test_signing_out_with_the_cache_down_is_refused_and_changes_nothing(settings):
    from .ports import free_port

    _, client = _signed_in()
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    settings.CACHES = {
        "default": {
            "BACKEND": "handbook.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    client.raise_request_exception = False
    response = client.post("/logg-ut/")
    assert response.status_code == 503
    # The session is still there, in the database and (once the cache is back) in the cache.
    assert Session.objects.filter(session_key=key).exists()
