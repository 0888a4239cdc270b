"""Logs, request ids and the Prometheus endpoint."""

from __future__ import annotations

import json
import logging

import pytest
from axes.models import AccessFailureLog
from django.test import Client

from operations.logging import bind_request_id, current_request_id
from people.models import Person

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_log(settings):
    """The production log configuration, written to a list of parsed JSON lines."""
    from logging.config import dictConfig

    config = json.loads(json.dumps(settings.LOGGING))
    config["handlers"]["console"]["formatter"] = "json"
    dictConfig(config)
    handler = logging.getLogger().handlers[0]
    lines: list[str] = []

    class Capture(logging.Handler):
        def emit(self, record):
            lines.append(handler.format(record))

    capture = Capture()
    capture.filters = handler.filters
    logging.getLogger().addHandler(capture)
    yield lambda: [json.loads(line) for line in lines]
    logging.getLogger().removeHandler(capture)
    dictConfig(settings.LOGGING)


def test_every_request_gets_an_id_in_the_response_and_the_log(client, json_log):
    response = client.get("/helse/")
    request_id = response["X-Request-ID"]
    assert len(request_id) == 32
    access = [line for line in json_log() if line["logger"] == "handbook.request"]
    assert access[-1]["request_id"] == request_id
    assert access[-1]["path"] == "/helse/"
    assert access[-1]["status"] == 200
    assert {"time", "level", "message", "duration_ms"} <= set(access[-1])


def test_djangos_error_line_for_a_5xx_page_carries_the_request_id(json_log):
    # A 502 the view returns (a kommune's provider that is down) is logged by Django after the
    # middleware has finished: the one line an operator looks for with the id from the screenshot.
    from .factories import make_organisation, make_signin_config
    from .ports import free_port

    make_signin_config(
        make_organisation("Bergen kommune", "bergen"), f"http://127.0.0.1:{free_port()}"
    )
    response = Client().get("/logg-inn/bergen/", HTTP_X_REQUEST_ID="e" * 32)
    assert response.status_code == 502
    (line,) = [line for line in json_log() if line["logger"] == "django.request"]
    assert line["request_id"] == "e" * 32, line


def test_djangos_error_lines_keep_no_query_string(json_log):
    # Django passes the request to its error lines; its repr is the full path, and the JSON
    # formatter writes every extra attribute: a failing page must not log its query string
    # (search words can be names). Seen with /sok/?q=… while the database was down.
    from .factories import make_organisation, make_signin_config
    from .ports import free_port

    make_signin_config(
        make_organisation("Bergen kommune", "bergen"), f"http://127.0.0.1:{free_port()}"
    )
    response = Client().get("/logg-inn/bergen/?next=/sok/%3Fq%3DKari%2BNordmann")
    assert response.status_code == 502
    (line,) = [line for line in json_log() if line["logger"] == "django.request"]
    assert "Kari" not in json.dumps(line), line
    assert line["request"] == "GET /logg-inn/bergen/", line


def test_the_proxys_request_id_is_kept_and_a_forged_one_replaced(client):
    assert client.get("/helse/", HTTP_X_REQUEST_ID="a" * 32)["X-Request-ID"] == "a" * 32
    forged = client.get("/helse/", HTTP_X_REQUEST_ID='x" injected\nline')["X-Request-ID"]
    assert forged != 'x" injected\nline' and len(forged) == 32


def test_logs_name_people_only_by_id(handbook, json_log, settings):
    settings.AXES_ENABLED = True
    person = Person.objects.get(username="ansatt.bergen")
    client = Client()
    client.force_login(person)
    client.get("/sok/?q=Kari+Nordmann")
    # A failed sign-in, which django-axes logs as a warning.
    Client().post("/logg-inn/", {"username": "ansatt.bergen", "password": "feil"})
    lines = json_log()
    assert any(line["logger"].startswith("axes") for line in lines)
    text = json.dumps(lines)
    for personal in ("ansatt.bergen", person.email, person.first_name, "Kari", "127.0.0.1"):
        assert personal not in text, personal
    access = [line for line in json_log() if line.get("path") == "/sok/"]
    assert access[0]["user_id"] == person.pk


def test_a_job_runs_under_the_request_id_that_queued_it():
    with bind_request_id("c" * 32):
        assert current_request_id() == "c" * 32
    assert current_request_id() == ""
    with bind_request_id(None) as fresh:
        assert len(fresh) == 32


METRICS = "/helse/metrikker/"


def test_metrics_are_closed_when_no_token_is_configured(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get(METRICS).status_code == 404
    assert client.get(METRICS, HTTP_AUTHORIZATION="Bearer ").status_code == 404


def test_metrics_refuse_a_wrong_token_and_signed_in_people(handbook, settings):
    settings.METRICS_TOKEN = "s3cret-token-for-prometheus"
    admin = Client()
    admin.force_login(Person.objects.get(username="admin"))
    assert admin.get(METRICS).status_code == 404
    assert Client().get(METRICS, HTTP_AUTHORIZATION="Bearer wrong").status_code == 404


def test_metrics_give_the_products_figures_to_the_scraper(handbook, settings):
    settings.METRICS_TOKEN = "s3cret-token-for-prometheus"
    AccessFailureLog.objects.create(username="x", ip_address="127.0.0.1", user_agent="t")
    response = Client().get(METRICS, HTTP_AUTHORIZATION="Bearer s3cret-token-for-prometheus")
    assert response.status_code == 200
    body = response.content.decode()
    active = Person.objects.active().count()
    assert f"handbook_people_active {float(active)}" in body
    assert "handbook_acknowledgements_total " in body
    assert "handbook_sign_in_failures_last_hour 1.0" in body
    assert "handbook_organisations 3.0" in body
    # No person, username or address appears in the figures.
    assert "ansatt" not in body and "127.0.0.1" not in body


def test_metrics_can_be_limited_to_the_monitoring_network(handbook, settings):
    import ipaddress

    settings.METRICS_TOKEN = "s3cret-token-for-prometheus"
    settings.METRICS_ALLOWED_NETWORKS = [ipaddress.ip_network("10.20.0.0/16")]
    auth = {"HTTP_AUTHORIZATION": "Bearer s3cret-token-for-prometheus"}
    assert Client().get(METRICS, REMOTE_ADDR="127.0.0.1", **auth).status_code == 404
    assert Client().get(METRICS, REMOTE_ADDR="10.20.3.4", **auth).status_code == 200


def test_behind_nginx_the_metrics_network_is_the_scrapers_not_nginxs(handbook, settings):
    # docs/deploy: nginx on the app machine (REMOTE_ADDR 127.0.0.1) appends the scraper's address
    # to X-Forwarded-For; handbook.env.example sets TRUSTED_PROXY_COUNT=1.
    import ipaddress

    settings.METRICS_TOKEN = "s3cret-token-for-prometheus"
    settings.METRICS_ALLOWED_NETWORKS = [ipaddress.ip_network("10.0.50.0/24")]
    settings.TRUSTED_PROXY_COUNT = 1
    auth = {"HTTP_AUTHORIZATION": "Bearer s3cret-token-for-prometheus", "REMOTE_ADDR": "127.0.0.1"}

    def scrape(forwarded_for):
        return Client().get(METRICS, HTTP_X_FORWARDED_FOR=forwarded_for, **auth).status_code

    assert scrape("10.0.50.7") == 200
    assert scrape("203.0.113.5") == 404
    # An outsider writing the monitoring address itself: nginx appends the real one after it.
    assert scrape("10.0.50.7, 203.0.113.5") == 404


def test_errors_sent_to_sentry_carry_the_person_id_and_nothing_personal():
    from operations.logging import scrub_sentry_event

    event = {
        "user": {
            "id": 42,
            "email": "kari@bergen.kommune.no",
            "username": "kari",
            "ip_address": "10.0.0.9",
        },
        "request": {
            "method": "POST",
            "url": "https://handbok.example/sok/?q=Kari+Nordmann",
            "cookies": {"sessionid": "secret"},
            "headers": {"Cookie": "sessionid=secret"},
            "data": {"password": "hemmelig"},
        },
    }
    with bind_request_id("d" * 32):
        scrubbed = scrub_sentry_event(event, {})
    text = json.dumps(scrubbed)
    for personal in ("kari", "Kari", "10.0.0.9", "secret", "hemmelig"):
        assert personal not in text, personal
    assert scrubbed["user"] == {"id": 42}
    assert scrubbed["request"] == {"method": "POST", "url": "https://handbok.example/sok/"}
    assert scrubbed["tags"]["request_id"] == "d" * 32


def test_sentry_is_switched_on_by_the_environment_only():
    import os
    import subprocess
    import sys

    probe = (
        "import django, sentry_sdk; django.setup(); "
        "print(sentry_sdk.get_client().is_active(), sentry_sdk.get_client().options['send_default_pii'])"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "handbook.settings"}
    env.pop("SENTRY_DSN", None)
    off = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True)
    assert off.stdout.split()[0] == "False", off.stderr
    env["SENTRY_DSN"] = "http://key@127.0.0.1:9/1"
    on = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True)
    assert on.stdout.split() == ["True", "False"], on.stderr


@pytest.mark.django_db(transaction=True)
def test_the_emails_a_request_queued_are_sent_under_its_request_id(json_log, smtp_sink):
    from procrastinate.contrib.django.models import ProcrastinateJob

    from .jobs import run_worker
    from .manager_setup import make_world

    world = make_world()
    client = Client()
    client.force_login(world.manager)
    url = f"/oversikt/enhet/{world.health.pk}/retningslinje/{world.policy.slug}/paminnelse/"
    assert client.post(url, HTTP_X_REQUEST_ID="e" * 32).status_code == 302
    # The request queues the reminder run's expansion; the worker expands it into delivery jobs.
    job = ProcrastinateJob.objects.get(task_name="policies.expand_reminders")
    assert job.args["request_id"] == "e" * 32
    run_worker()  # expands the run into e-mails and their delivery jobs
    run_worker()  # sends them
    assert smtp_sink.count() == 2
    deliveries = ProcrastinateJob.objects.filter(task_name="outbox.deliver")
    assert all(d.args["request_id"] == "e" * 32 for d in deliveries)
    # The worker's lines about that batch carry the id of the manager's request.
    batch = [line for line in json_log() if line["logger"] == "outbox.tasks"]
    assert batch and {line["request_id"] for line in batch} == {"e" * 32}
