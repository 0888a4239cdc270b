"""Sign-in through a kommune's own OpenID Connect provider, against real provider processes.

The Django test client plays the browser on Håndboka's side; the provider's sign-in page is
answered over HTTP (tests/oidc_providers.py). Håndboka itself talks to the provider over HTTP for
discovery, the token and the keys, exactly as in production.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client

from people.models import Person
from signin.models import Outcome, SignInConfig, SignInEvent, SignInIdentity

from .factories import make_organisation, make_person, make_signin_config
from .oidc_providers import approve, path_and_query, query, set_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def bergen(oidc):
    organisation = make_organisation("Bergen kommune", "bergen")
    make_signin_config(organisation, oidc.bergen.issuer)
    return organisation


@pytest.fixture
def moskenes(oidc):
    organisation = make_organisation("Moskenes kommune", "moskenes")
    make_signin_config(organisation, oidc.moskenes.issuer)
    return organisation


def start(client: Client, org: str = "bergen", next_url: str | None = None) -> str:
    """Begin the sign-in at Håndboka: the provider's authorization address it sends us to."""
    url = f"/logg-inn/{org}/" + (f"?next={next_url}" if next_url else "")
    response = client.get(url)
    assert response.status_code == 302, response.content[:300]
    return response["Location"]


def sign_in(client: Client, sub: str, org: str = "bergen", next_url: str | None = None):
    """The whole flow: Håndboka → provider (signing in as `sub`) → Håndboka's callback."""
    callback = approve(start(client, org, next_url), sub)
    return client.get(path_and_query(callback))


def signed_in_person(client: Client) -> Person | None:
    pk = client.session.get(SESSION_KEY)
    return Person.objects.get(pk=pk) if pk else None


def test_an_employee_from_the_hr_import_signs_in_by_e_mail_and_her_subject_is_recorded(bergen):
    kari = make_person(bergen, email="kari@bergen.test", password="")
    client = Client()

    authorize = start(client)
    params = query(authorize)
    assert params["code_challenge_method"] == "S256" and params["code_challenge"]
    assert params["nonce"] and params["state"]
    response = client.get(path_and_query(approve(authorize, "kari@bergen.test")))

    assert response.status_code == 302 and response["Location"] == "/"
    assert signed_in_person(client) == kari
    identity = SignInIdentity.objects.get()
    assert identity.person == kari and identity.organisation == bergen
    assert identity.subject.endswith("#kari@bergen.test")
    assert list(SignInEvent.objects.values_list("outcome", flat=True)) == [Outcome.LINKED]


def test_from_then_on_the_subject_finds_her_even_when_her_e_mail_changes(bergen, oidc):
    kari = make_person(bergen, email="kari@bergen.test")
    set_user(oidc.bergen, "kari-sub", {"email": "kari@bergen.test"})
    assert signed_in_person(_signed_in(Client(), "kari-sub")) == kari

    # HR changes her address, and the provider sends another one: the subject still decides.
    Person.objects.filter(pk=kari.pk).update(email="kari.nordmann@bergen.test")
    set_user(oidc.bergen, "kari-sub", {"email": "noe-annet@bergen.test"})
    client = _signed_in(Client(), "kari-sub")
    assert signed_in_person(client) == kari
    assert SignInEvent.objects.filter(outcome=Outcome.SIGNED_IN, person=kari).count() == 1


def _signed_in(client: Client, sub: str, org: str = "bergen") -> Client:
    response = sign_in(client, sub, org)
    assert response.status_code == 302, response.content[:500]
    return client


def test_matching_by_employee_number_uses_the_claim_the_kommune_chose(bergen):
    SignInConfig.objects.filter(organisation=bergen).update(
        match_on="employee_number", match_claim="employee_number"
    )
    nora = make_person(bergen, employee_number="B4001", email="annen@bergen.test")
    client = _signed_in(Client(), "bergen-b4001")
    assert signed_in_person(client) == nora


def test_the_next_address_is_kept_through_the_provider_but_never_leaves_the_site(bergen):
    make_person(bergen, email="kari@bergen.test")
    response = sign_in(Client(), "kari@bergen.test", next_url="/meg/")
    assert response["Location"] == "/meg/"
    response = sign_in(Client(), "kari@bergen.test", next_url="https://evil.example/")
    assert response["Location"] == "/"


def _assert_refused(response, status: int, heading: str, outcome: str):
    body = response.content.decode()
    assert response.status_code == status, body[:500]
    assert heading in body
    assert SESSION_KEY not in response.wsgi_request.session
    assert not SignInIdentity.objects.exists()
    assert list(SignInEvent.objects.values_list("outcome", flat=True)) == [outcome]


def test_an_unknown_person_gets_a_norwegian_page_and_nothing_but_an_audit_event(bergen):
    people_before = list(Person.objects.values())
    response = sign_in(Client(), "ukjent@bergen.test")
    _assert_refused(response, 403, "Vi fant deg ikke i Håndboka", Outcome.UNKNOWN)
    assert "IT-brukerstøtte, tlf. 55 00 00 00" in response.content.decode()
    assert list(Person.objects.values()) == people_before
    assert not Person.objects.filter(email="ukjent@bergen.test").exists()


def test_a_deactivated_person_is_refused_with_a_page_that_says_why(bergen):
    make_person(bergen, email="sluttet@bergen.test", is_active=False)
    response = sign_in(Client(), "sluttet@bergen.test")
    _assert_refused(response, 403, "Brukeren din i Håndboka er deaktivert", Outcome.INACTIVE)


def test_a_person_deactivated_after_linking_is_refused_too(bergen, oidc):
    kari = make_person(bergen, email="kari@bergen.test")
    set_user(oidc.bergen, "kari-2", {"email": "kari@bergen.test"})
    _signed_in(Client(), "kari-2")
    Person.objects.filter(pk=kari.pk).update(is_active=False)
    response = sign_in(Client(), "kari-2")
    assert response.status_code == 403
    assert "deaktivert" in response.content.decode()
    assert SignInEvent.objects.filter(outcome=Outcome.INACTIVE).count() == 1


def test_two_active_people_with_the_same_e_mail_are_ambiguous_and_nobody_signs_in(bergen):
    make_person(bergen, email="felles@bergen.test")
    make_person(bergen, email="FELLES@bergen.test")
    response = sign_in(Client(), "felles@bergen.test")
    _assert_refused(response, 403, "Vi kan ikke avgjøre hvem du er", Outcome.AMBIGUOUS)


def test_a_second_provider_account_claiming_an_already_linked_person_is_refused(bergen, oidc):
    kari = make_person(bergen, email="kari@bergen.test")
    set_user(oidc.bergen, "kari-first", {"email": "kari@bergen.test"})
    set_user(oidc.bergen, "kari-second", {"email": "kari@bergen.test"})
    _signed_in(Client(), "kari-first")
    response = sign_in(Client(), "kari-second")
    assert response.status_code == 403
    assert SignInIdentity.objects.get().person == kari
    assert SignInIdentity.objects.count() == 1


def test_a_missing_matching_claim_is_refused(bergen):
    SignInConfig.objects.filter(organisation=bergen).update(
        match_on="employee_number", match_claim="employee_number"
    )
    make_person(bergen, email="uten@bergen.test", employee_number="B1")
    response = sign_in(Client(), "bergen-no-number")
    _assert_refused(response, 403, "Vi kan ikke avgjøre hvem du er", Outcome.MISSING_CLAIM)


def test_moskenes_provider_never_signs_anyone_into_bergen_even_with_the_same_claims(
    bergen, moskenes
):
    # Nora is Bergen's; Moskenes' provider has a user with her subject, e-mail and number.
    nora = make_person(bergen, email="nora@bergen.test", employee_number="B4001")
    response = sign_in(Client(), "bergen-b4001", org="moskenes")
    assert response.status_code == 403
    assert "Vi fant deg ikke" in response.content.decode()
    assert not SignInIdentity.objects.exists()
    event = SignInEvent.objects.get()
    assert event.organisation == moskenes and event.outcome == Outcome.UNKNOWN
    assert nora.last_login is None


def test_a_code_and_state_from_moskenes_cannot_be_used_at_bergens_address(bergen, moskenes):
    make_person(bergen, email="kari@bergen.test")
    client = Client()
    start(client, "bergen")
    moskenes_callback = approve(start(client, "moskenes"), "kari@bergen.test")
    # The state was issued for Moskenes: Bergen's address does not know it.
    response = client.get(path_and_query(moskenes_callback).replace("/moskenes/", "/bergen/"))
    _assert_refused(response, 400, "Innloggingen er utløpt eller allerede brukt", Outcome.STATE)


def test_a_replayed_callback_is_refused(bergen):
    make_person(bergen, email="kari@bergen.test")
    client = Client()
    callback = path_and_query(approve(start(client), "kari@bergen.test"))
    assert client.get(callback).status_code == 302
    client.post("/logg-ut/")
    SignInEvent.objects.all()  # the sign-in and sign-out are recorded; the replay adds one refusal
    before = SignInEvent.objects.count()
    response = client.get(callback)
    assert response.status_code == 400
    assert "allerede brukt" in response.content.decode()
    assert SignInEvent.objects.count() == before + 1
    assert SESSION_KEY not in client.session


def test_a_callback_without_state_is_refused(bergen):
    response = Client().get("/logg-inn/bergen/retur/?code=abc")
    assert response.status_code == 400
    assert SignInEvent.objects.get().outcome == Outcome.STATE


def test_a_code_already_used_is_refused_by_the_provider_and_by_us(bergen):
    make_person(bergen, email="kari@bergen.test")
    first = Client()
    used = query(approve(start(first), "kari@bergen.test"))
    assert (
        first.get(f"/logg-inn/bergen/retur/?code={used['code']}&state={used['state']}").status_code
        == 302
    )

    # A fresh sign-in in another browser, its callback carrying the code already used.
    other = Client()
    fresh = query(approve(start(other), "kari@bergen.test"))
    response = other.get(f"/logg-inn/bergen/retur/?code={used['code']}&state={fresh['state']}")
    assert response.status_code == 400
    assert "kunne ikke fullføres" in response.content.decode()
    assert SESSION_KEY not in other.session
    assert SignInEvent.objects.filter(outcome=Outcome.INVALID_TOKEN).count() == 1


def test_the_person_cancelling_at_the_provider_gets_a_page_not_an_error(bergen):
    client = Client()
    authorize = start(client)
    import requests

    response = requests.post(authorize, data={"action": "deny"}, allow_redirects=False, timeout=10)
    page = client.get(path_and_query(response.headers["Location"]))
    assert page.status_code == 400
    assert "Innloggingen ble avbrutt" in page.content.decode()


def test_a_provider_that_is_down_gets_a_norwegian_page(db):
    from .ports import free_port

    organisation = make_organisation("Bergen kommune", "bergen")
    make_signin_config(organisation, f"http://127.0.0.1:{free_port()}")
    response = Client().get("/logg-inn/bergen/")
    assert response.status_code == 502
    assert "Bergen kommunes pålogging svarer ikke" in response.content.decode()
    assert SignInEvent.objects.get().outcome == Outcome.UNAVAILABLE


def test_groups_give_and_take_the_editor_and_whole_organisation_roles(bergen, oidc):
    SignInConfig.objects.filter(organisation=bergen).update(
        editor_groups="g-kommunikasjon\n", manager_groups="g-hr"
    )
    kari = make_person(bergen, email="kari@bergen.test")
    set_user(
        oidc.bergen,
        "kari-groups",
        {"email": "kari@bergen.test", "groups": ["g-kommunikasjon", "g-hr"]},
    )
    _signed_in(Client(), "kari-groups")
    kari.refresh_from_db()
    assert kari.is_editor and kari.sees_whole_organisation
    assert SignInEvent.objects.get(outcome=Outcome.LINKED).detail == {
        "roles": {"is_editor": True, "sees_whole_organisation": True}
    }

    set_user(oidc.bergen, "kari-groups", {"email": "kari@bergen.test", "groups": ["g-hr"]})
    _signed_in(Client(), "kari-groups")
    kari.refresh_from_db()
    assert not kari.is_editor and kari.sees_whole_organisation


def test_without_a_group_mapping_the_roles_set_in_handboka_are_kept(bergen, oidc):
    kari = make_person(bergen, email="kari@bergen.test", is_editor=True)
    set_user(oidc.bergen, "kari-x", {"email": "kari@bergen.test", "groups": []})
    _signed_in(Client(), "kari-x")
    kari.refresh_from_db()
    assert kari.is_editor


def test_signing_out_ends_the_provider_session_too(bergen):
    make_person(bergen, email="kari@bergen.test")
    client = _signed_in(Client(), "kari@bergen.test")
    response = client.post("/logg-ut/")
    assert response.status_code == 200
    assert SESSION_KEY not in client.session
    body = response.content.decode()
    assert f"url={bergen.signin_config.issuer}/oauth2/end_session?id_token_hint=" in body
    assert "post_logout_redirect_uri=http%3A%2F%2Ftestserver%2Flogg-ut%2F" in body
    assert SignInEvent.objects.filter(outcome=Outcome.SIGNED_OUT).count() == 1


def test_a_local_account_signing_out_goes_home(bergen):
    client = Client()
    client.force_login(make_person(bergen))
    response = client.post("/logg-ut/")
    assert response.status_code == 302 and response["Location"] == "/"


def test_login_page_offers_each_kommunes_sign_in_first_and_local_accounts_in_a_disclosure(
    bergen, moskenes
):
    body = Client().get("/logg-inn/").content.decode()
    bergen_button = body.index("Logg inn med Bergen kommunes pålogging")
    moskenes_button = body.index("Logg inn med Moskenes kommunes pålogging")
    details = body.index("<details")
    assert bergen_button < moskenes_button < details
    assert body.index('name="password"') > details


def test_kommune_parameter_and_org_address_go_straight_to_that_sign_in(bergen, moskenes):
    client = Client()
    assert client.get("/logg-inn/?kommune=moskenes")["Location"] == "/logg-inn/moskenes/"
    assert client.get("/moskenes/logg-inn/")["Location"] == "/logg-inn/moskenes/"
    assert (
        client.get("/moskenes/logg-inn/?next=/meg/")["Location"]
        == "/logg-inn/moskenes/?next=%2Fmeg%2F"
    )
    assert client.get("/logg-inn/?kommune=finnes-ikke").status_code == 200
    assert client.get("/finnes-ikke/logg-inn/").status_code == 404
    assert client.get("/logg-inn/finnes-ikke/").status_code == 404


def test_a_disabled_sign_in_is_neither_offered_nor_usable(bergen):
    SignInConfig.objects.filter(organisation=bergen).update(enabled=False)
    assert "Logg inn med Bergen" not in Client().get("/logg-inn/").content.decode()
    assert Client().get("/logg-inn/bergen/").status_code == 404
    assert Client().get("/logg-inn/bergen/retur/?code=x&state=y").status_code == 404


def test_a_secret_that_cannot_be_read_gets_the_norwegian_page_not_a_500(bergen, monkeypatch):
    monkeypatch.delenv("HANDBOOK_MISSING_SECRET", raising=False)
    SignInConfig.objects.filter(organisation=bergen).update(
        client_secret_encrypted="", client_secret_env="HANDBOOK_MISSING_SECRET"
    )
    response = Client().get("/logg-inn/bergen/")
    assert response.status_code == 502
    assert "Bergen kommunes pålogging svarer ikke" in response.content.decode()
