import json

import pytest
from django.db import DatabaseError


@pytest.mark.django_db
def test_health_reports_database_cache_and_queue_separately(client):
    response = client.get("/helse/")
    assert response.status_code == 200
    assert json.loads(response.content) == {"database": "ok", "cache": "ok", "queue": "ikke i bruk"}
    assert "no-cache" in response["Cache-Control"]


def test_health_refuses_other_methods(client):
    assert client.post("/helse/").status_code == 405


@pytest.mark.django_db
def test_health_answers_503_when_the_cache_fails(client, settings):
    # A cache that cannot store anything (its folder cannot exist), as when the cache server is down.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": "/dev/null/cache",
        }
    }
    response = client.get("/helse/")
    assert response.status_code == 503
    assert json.loads(response.content)["cache"] == "feil"
    assert json.loads(response.content)["database"] == "ok"


@pytest.mark.django_db
def test_a_failing_queue_is_reported_but_keeps_the_server_in_service(client, monkeypatch):
    def broken():
        raise DatabaseError("queue table unavailable")

    monkeypatch.setattr("operations.views.queue_status", broken)
    response = client.get("/helse/")
    assert response.status_code == 200
    assert json.loads(response.content)["queue"] == "feil"
