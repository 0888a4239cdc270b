"""A kommune's sign-in settings: data in the admin, the secret encrypted and never shown back; and
the demo settings that `make run` gives the three demo kommuner."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from django.test import Client

from people.models import Organisation, Person
from policies.hr_import import import_people
from signin.matching import SignInRefused, find_person
from signin.models import SignInConfig

from .factories import make_organisation, make_person, make_signin_config

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def admin_client():
    client = Client()
    client.force_login(make_person(None, username="root", is_superuser=True, is_staff=True))
    return client


def stored_secret(config: SignInConfig) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "select client_secret_encrypted from signin_signinconfig where id = %s", [config.pk]
        )
        return cursor.fetchone()[0]


def test_the_secret_is_stored_encrypted_and_decrypts_for_the_token_request(db):
    config = make_signin_config(
        make_organisation(), "https://login.example.invalid/t", secret="s3cret-verdi"
    )
    assert "s3cret-verdi" not in stored_secret(config)
    assert SignInConfig.objects.get(pk=config.pk).client_secret() == "s3cret-verdi"


def test_rotating_the_encryption_keys_keeps_old_secrets_readable(db, settings):
    from cryptography.fernet import Fernet

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.SIGNIN_ENCRYPTION_KEYS = [old]
    config = make_signin_config(
        make_organisation(), "https://login.example.invalid/t", secret="gammel"
    )
    settings.SIGNIN_ENCRYPTION_KEYS = [new, old]
    assert SignInConfig.objects.get(pk=config.pk).client_secret() == "gammel"
    settings.SIGNIN_ENCRYPTION_KEYS = [new]
    with pytest.raises(ImproperlyConfigured):
        SignInConfig.objects.get(pk=config.pk).client_secret()


def test_a_secret_can_come_from_the_environment_instead(db, monkeypatch):
    config = make_signin_config(make_organisation(), "https://login.example.invalid/t", secret="")
    config.client_secret_env = "HANDBOOK_TEST_OIDC_SECRET"
    monkeypatch.setenv("HANDBOOK_TEST_OIDC_SECRET", "fra-miljøet")
    assert config.client_secret() == "fra-miljøet"
    assert stored_secret(config) == ""


def test_the_admin_sets_a_secret_without_ever_showing_it_back(admin_client):
    organisation = make_organisation("Testvik kommune", "testvik")
    form = {
        "organisation": organisation.pk,
        "enabled": "on",
        "entra_tenant_id": "9188040d-6c67-4c5b-b112-36a304b66dad",
        "issuer": "",
        "client_id": "11111111-2222-3333-4444-555555555555",
        "new_client_secret": "hemmelig-fra-entra",
        "client_secret_env": "",
        "scopes": "openid profile email",
        "match_on": "email",
        "match_claim": "preferred_username",
        "editor_groups": "",
        "manager_groups": "",
        "support_contact": "",
        "end_provider_session": "on",
    }
    response = admin_client.post("/admin/signin/signinconfig/add/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    config = SignInConfig.objects.get(organisation=organisation)
    assert (
        config.issuer_url
        == "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0"
    )
    assert config.client_secret() == "hemmelig-fra-entra"
    assert "hemmelig-fra-entra" not in stored_secret(config)

    page = admin_client.get(f"/admin/signin/signinconfig/{config.pk}/change/").content.decode()
    assert "hemmelig-fra-entra" not in page
    assert stored_secret(config) not in page
    # Saving the other settings again keeps the secret.
    form["new_client_secret"] = ""
    form["support_contact"] = "IT, tlf. 12345678"
    assert (
        admin_client.post(f"/admin/signin/signinconfig/{config.pk}/change/", form).status_code
        == 302
    )
    assert SignInConfig.objects.get(pk=config.pk).client_secret() == "hemmelig-fra-entra"


def test_the_admin_refuses_settings_without_an_issuer_or_without_openid(admin_client):
    organisation = make_organisation()
    form = {
        "organisation": organisation.pk,
        "client_id": "x",
        "scopes": "profile email",
        "match_on": "email",
        "match_claim": "email",
    }
    response = admin_client.post("/admin/signin/signinconfig/add/", form)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Fyll ut Entra ID-tenant eller utsteder." in body
    assert "Scopes må inneholde «openid»." in body
    assert not SignInConfig.objects.exists()


def test_entra_subjects_are_tenant_and_object_id(db):
    bergen = make_organisation()
    config = make_signin_config(bergen, "https://login.example.invalid/t")
    kari = make_person(bergen, email="kari@bergen.test")
    claims = {"sub": "pairwise", "tid": "t-1", "oid": "o-1", "email": "kari@bergen.test"}
    match = find_person(config, claims)
    assert match.person == kari and match.subject == "t-1/o-1"
    with pytest.raises(SignInRefused):
        find_person(config, {**claims, "email": ""})


def test_make_runs_demo_settings_let_each_demo_provider_user_in_except_the_unknown_one(db):
    call_command("load_handbook", stdout=io.StringIO())
    text = (ROOT / "fixtures/demo_hr/bergen.csv").read_text()
    import_people(organisation=Organisation.objects.get(slug="bergen"), text=text, partial=True)
    call_command("demo_signin", "--port", "9401", stdout=io.StringIO())

    demo = json.loads((ROOT / "fixtures/demo_signin.json").read_text())
    for slug in ("bergen", "moskenes", "bodo"):
        config = SignInConfig.objects.get(organisation__slug=slug)
        assert config.issuer_url == f"http://127.0.0.1:{9401 + demo[slug]['port_offset']}"
        assert config.client_secret()
        for user in demo[slug]["users"]:
            if user["sub"] == "ukjent.person":
                with pytest.raises(SignInRefused):
                    find_person(config, user)
                continue
            person = find_person(config, {**user, "iss": config.issuer_url}).person
            assert isinstance(person, Person) and person.organisation.slug == slug
    nora = Person.objects.get(employee_number="B4001")
    assert not nora.has_usable_password()


def test_demo_sign_in_is_refused_outside_development(db, settings):
    settings.DEMO_DATA = False
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("demo_signin", stdout=io.StringIO())
    call_command("demo_signin", "--if-enabled", stdout=io.StringIO())
    assert not SignInConfig.objects.exists()
