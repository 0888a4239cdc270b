"""Security properties checked from the outside: CSRF, headers, deployment checks, production
settings, login throttling and request size limits. (Script injection is checked in Chromium:
tests/browser/test_xss.py; access by role and object: tests/test_access_matrix.py.)"""

from __future__ import annotations

import logging
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.middleware.csrf import REASON_CSRF_TOKEN_MISSING, REASON_NO_CSRF_COOKIE
from django.test import Client

from people.models import Person

from .test_access_matrix import ROLES, USERNAMES, all_cases, subject  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent


def client_as(role: str, **kwargs) -> Client:
    client = Client(**kwargs)
    if role != "anonymous":
        client.force_login(Person.objects.get(username=USERNAMES[role]))
    return client


# --- CSRF -------------------------------------------------------------------------------------


CSRF_REASONS = (REASON_NO_CSRF_COOKIE, REASON_CSRF_TOKEN_MISSING)


def _csrf_refusal(response, records: list[logging.LogRecord]) -> bool:
    """True when the 403 is Django's CSRF check refusing the form (its reason logged by
    django.security.csrf, our CSRF page shown), not any other 403 such as a missing role."""
    reasons = [r.args[0] for r in records if r.name == "django.security.csrf" and r.args]
    templates = {t.name for t in response.templates}
    return (
        response.status_code == 403
        and "403_csrf.html" in templates
        and len(reasons) == 1
        and reasons[0] in CSRF_REASONS
    )


@pytest.mark.usefixtures("subject")
def test_every_post_without_a_csrf_token_is_refused_for_every_kind_of_visitor(caplog):
    # Every address of the access matrix, so a new POST endpoint is covered the day it is added.
    refused = 0
    accepted = []
    for role in ROLES:
        client = client_as(role, enforce_csrf_checks=True)
        for case in all_cases():
            url = case.url()
            caplog.clear()
            with caplog.at_level(logging.WARNING, logger="django.security.csrf"):
                response = client.post(url, {"title": "x", "body": "x", "q": "x"})
            if response.status_code == 403:
                if _csrf_refusal(response, caplog.records):
                    refused += 1
                else:
                    # Refused, but not by the CSRF check: the sweep would not notice that CSRF
                    # protection is gone behind it.
                    accepted.append(f"{case} {url} as {role}: 403 for another reason")
            elif role in ("anonymous", "inactive") and case.name == "choose_language":
                # A visitor's målform (an inactive person is one) is only a cookie of their own, and the
                # header form carries no token so public pages stay cacheable (people.views).
                pass
            elif response.status_code != 405:
                accepted.append(f"{case} {url} as {role}: {response.status_code}")
    assert not accepted, "POST without a CSRF token was not refused:\n" + "\n".join(accepted)
    assert refused > 0


def test_a_refused_form_gets_a_norwegian_page(handbook):
    client = client_as("employee", enforce_csrf_checks=True)
    response = client.post("/logg-ut/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "Skjemaet kunne ikke sendes" in html
    assert "CSRF" not in html
    # Still logged in: nothing happened.
    assert client.get("/logg-ut/").context["user"].username == "ansatt.bergen"


def test_the_same_post_with_its_csrf_token_goes_through(handbook):
    client = client_as("employee", enforce_csrf_checks=True)
    page = client.get("/logg-ut/")
    token = page.context["csrf_token"]
    response = client.post("/logg-ut/", {"csrfmiddlewaretoken": str(token)})
    assert response.status_code == 302
    assert not client.get("/logg-ut/").context["user"].is_authenticated


# --- Headers ----------------------------------------------------------------------------------


def directives(header: str) -> dict[str, list[str]]:
    result = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            result[words[0]] = words[1:]
    return result


@pytest.mark.parametrize(
    "url", ["/", "/moskenes/sosiale-medier/", "/logg-inn/", "/finnes-ikke/", "/tilgjengelighet/"]
)
def test_pages_carry_a_strict_content_security_policy_and_the_other_security_headers(
    client, handbook, url
):
    response = client.get(url)
    csp = directives(response["Content-Security-Policy"])
    script_src = csp.get("script-src", csp.get("default-src"))
    assert "'unsafe-inline'" not in script_src
    assert "'unsafe-eval'" not in script_src
    assert not any(source in ("*", "data:", "http:", "https:") for source in script_src)
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


def test_templates_have_no_inline_scripts_or_style_attributes():
    # The CSP would block them; better that none are written in the first place.
    offenders = []
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        if " style=" in text or "<style" in text:
            offenders.append(f"{template}: inline style")
        for chunk in text.split("<script")[1:]:
            if "src=" not in chunk.split(">")[0]:
                offenders.append(f"{template}: inline script")
        if re.search(r"<[a-zA-Z][^>]*\son[a-z]+\s*=", text):
            offenders.append(f"{template}: inline event handler")
        if re.search(r"(href|src|action)=[\"']?\s*javascript:", text, re.IGNORECASE):
            offenders.append(f"{template}: javascript: URL")
    assert not offenders, offenders


# --- Deployment settings ----------------------------------------------------------------------


def production_env(**overrides: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        # DJANGO_ALLOW_ASYNC_UNSAFE is for the browser tests only (tests/browser/conftest.py).
        if key
        not in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "ENVIRONMENT", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    env.update(
        ENVIRONMENT="production",
        SECRET_KEY=secrets.token_urlsafe(45)[:60],
        ALLOWED_HOSTS="handboka.kommune.no",
        SITE_URL="https://handboka.kommune.no",
        DATABASE_URL=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:25321/handbook"),
        DJANGO_SETTINGS_MODULE="handbook.settings",
    )
    env.update(overrides)
    return {key: value for key, value in env.items() if value is not None}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_deployment_checks_pass_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = production_env()
    del env["SECRET_KEY"]
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_refuses_a_short_or_development_secret_key():
    for key in ("too-short", "dev-only-insecure-secret-key-do-not-use-in-production"):
        result = manage("check", env=production_env(SECRET_KEY=key))
        assert result.returncode != 0, key
        assert "SECRET_KEY" in result.stderr


def test_production_refuses_to_start_without_an_https_site_url():
    # Every reminder and digest links to SITE_URL: the development default would send 20 000
    # e-mails pointing at http://127.0.0.1:8000.
    for value in (None, "", "http://handboka.kommune.no"):
        result = manage("check", env=production_env(SITE_URL=value))
        assert result.returncode != 0, value
        assert "Set SITE_URL" in result.stderr, result.stderr


def test_an_empty_database_url_says_which_variable_is_missing():
    # The worker unit runs DATABASE_URL="$DIRECT_DATABASE_URL": without that line in handbook.env
    # the operator must learn what to set, not "Scheme '://' is unknown".
    result = manage("check", env=production_env(DATABASE_URL=""))
    assert result.returncode != 0
    assert "DATABASE_URL is empty" in result.stderr, result.stderr
    assert "DIRECT_DATABASE_URL" in result.stderr


def test_production_refuses_to_start_with_debug_on():
    result = manage("check", env=production_env(DEBUG="true"))
    assert result.returncode != 0
    assert "DEBUG must be off in production" in result.stderr


# --- Login throttling -------------------------------------------------------------------------


@pytest.fixture
def throttling(settings):
    settings.AXES_ENABLED = True
    AccessAttempt.objects.all().delete()


def log_in(client: Client, password: str):
    return client.post("/logg-inn/", {"username": "ansatt.bergen", "password": password})


def test_five_wrong_passwords_lock_the_account_even_for_the_right_password(
    handbook, throttling, caplog
):
    client = Client()
    caplog.set_level(logging.WARNING, logger="axes")
    responses = [log_in(client, f"feil-passord-{n}") for n in range(5)]
    assert [r.status_code for r in responses[:4]] == [200] * 4
    assert all("locked" not in r.content.decode().lower() for r in responses[:4])
    locked = responses[4]
    assert locked.status_code == 429
    assert "For mange mislykkede innlogginger" in locked.content.decode()

    right = log_in(client, "demo")
    assert right.status_code == 429
    assert "For mange mislykkede innlogginger" in right.content.decode()
    assert not client.get("/logg-ut/").context["user"].is_authenticated

    # Another person on the same address is not locked out by her mistakes.
    other = Client().post("/logg-inn/", {"username": "leder.bergen", "password": "demo"})
    assert other.status_code == 302

    attempt = AccessAttempt.objects.get(username="ansatt.bergen")
    assert attempt.failures_since_start >= 5
    # The record is evidence of the attack, not a list of passwords people tried.
    assert "feil-passord" not in attempt.post_data
    assert any("AXES" in record.getMessage() for record in caplog.records)


def test_a_right_password_before_the_limit_logs_in_and_resets_the_count(handbook, throttling):
    client = Client()
    for n in range(3):
        log_in(client, f"feil-{n}")
    assert log_in(client, "demo").status_code == 302
    assert not AccessAttempt.objects.filter(username="ansatt.bergen").exists()


# --- Request size -----------------------------------------------------------------------------


def test_a_request_body_over_the_limit_gets_a_clear_norwegian_400(client, handbook):
    too_big = "x" * (django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1000)
    response = client.post("/logg-inn/", {"username": "ansatt.bergen", "password": too_big})
    assert response.status_code in (400, 413)
    html = response.content.decode()
    assert "Forespørselen kunne ikke behandles" in html
    assert "for mye data" in html


def test_too_many_form_fields_get_the_same_clear_400(client, handbook):
    fields = {f"felt{n}": "x" for n in range(django_settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 10)}
    response = client.post("/logg-inn/", fields)
    assert response.status_code == 400
    assert "Forespørselen kunne ikke behandles" in response.content.decode()


def test_an_oversized_post_as_a_logged_in_person_is_refused_without_a_trace(handbook):
    client = client_as("editor", enforce_csrf_checks=True)
    token = str(client.get("/logg-ut/").context["csrf_token"])
    response = client.post("/logg-ut/", {"csrfmiddlewaretoken": token, "x": "y" * 3_000_000})
    assert response.status_code in (400, 413)
    assert "Traceback" not in response.content.decode()
    # Nothing happened: still logged in.
    assert client.get("/logg-ut/").context["user"].is_authenticated


# --- Hosts and redirects ----------------------------------------------------------------------


def test_a_request_for_a_foreign_host_name_is_refused_with_the_norwegian_400(client, handbook):
    response = client.get("/", HTTP_HOST="handboka.angriper.example")
    assert response.status_code == 400
    assert "Forespørselen kunne ikke behandles" in response.content.decode()


@pytest.mark.parametrize(
    "target",
    [
        "https://angriper.example/",
        "//angriper.example/",
        "/\\angriper.example/",
        "javascript:alert(1)",
        "https:angriper.example",
    ],
)
def test_logging_in_never_redirects_to_another_site(client, handbook, target):
    response = client.post(
        "/logg-inn/", {"username": "ansatt.bergen", "password": "demo", "next": target}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"


@pytest.mark.usefixtures("subject")
def test_every_address_answers_with_the_security_headers_whoever_asks():
    missing = []
    for role in ("anonymous", "employee", "manager", "editor"):
        client = client_as(role)
        for case in all_cases():
            url = case.url()
            response = client.get(url)
            for header in ("X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options"):
                if header not in response:
                    missing.append(f"{url} as {role}: {header}")
            if response.get("Content-Type", "").startswith("text/html"):
                csp = directives(response.get("Content-Security-Policy", ""))
                if csp.get("frame-ancestors") != ["'none'"] or "'unsafe-inline'" in csp.get(
                    "script-src", ["'unsafe-inline'"]
                ):
                    missing.append(f"{url} as {role}: Content-Security-Policy")
    assert not missing, "\n".join(missing)
