"""Sign-in in Chromium through real OpenID Connect provider processes: two kommuner, and every
hostile case the issue names. Each hostile case ends on a Norwegian page (never a 500) and writes
nothing but one audit event.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from playwright.sync_api import expect

from people.models import Organisation, Person
from policies.hr_import import import_people
from policies.models import Acknowledgement
from signin.models import Outcome, SignInEvent, SignInIdentity

from ..factories import make_organisation, make_person, make_signin_config
from ..ports import free_port
from .axe import axe_violations, format_violations

pytestmark = pytest.mark.browser

HR_FILE = """ansattnummer;fornavn;etternavn;epost;enhet;leder_for;folkevalgt
B4001;Nora;Nyansatt;nora@bergen.test;Byrådsavdeling for helse og omsorg;;nei
"""


def assert_accessible(page, what: str) -> None:
    violations = axe_violations(page)
    assert not violations, f"{what}: {format_violations(violations)}"


def signed_in_people() -> set[int]:
    """Everyone with a live session: the browser's cookie is not readable from here."""
    return {
        int(s.get_decoded()[SESSION_KEY])
        for s in Session.objects.all()
        if SESSION_KEY in s.get_decoded()
    }


def test_a_bergen_employee_from_the_hr_import_signs_in_confirms_and_signs_out_of_both(
    page, live_server, handbook, oidc, screenshots
):
    bergen = Organisation.objects.get(slug="bergen")
    moskenes = Organisation.objects.get(slug="moskenes")
    import_people(organisation=bergen, text=HR_FILE, partial=True)
    nora = Person.objects.get(employee_number="B4001", organisation=bergen)
    assert not nora.has_usable_password()
    make_signin_config(
        bergen, oidc.bergen.issuer, match_on="employee_number", match_claim="employee_number"
    )
    make_signin_config(moskenes, oidc.moskenes.issuer)

    page.goto("/bergen/sosiale-medier/")
    page.get_by_role("link", name="Logg inn").first.click()
    expect(page.get_by_role("heading", name="Logg inn")).to_be_visible()
    assert_accessible(page, "the sign-in chooser")
    # The kommune's own sign-in comes first; the local form is folded away below it.
    expect(page.locator("details.local-login")).not_to_have_attribute("open", "")
    page.get_by_role("link", name="Logg inn med Bergen kommunes pålogging").click()

    # Bergen's provider (a real process on another port): pick Nora.
    expect(page).to_have_url(re.compile(rf"^{re.escape(oidc.bergen.issuer)}/oauth2/authorize"))
    page.get_by_role("button", name="bergen-b4001").click()

    expect(page).to_have_url(f"{live_server.url}/bergen/sosiale-medier/")
    expect(page.get_by_role("navigation", name="Hovedmeny")).to_contain_text("Nora Nyansatt")
    page.screenshot(path=screenshots / "signed-in-through-bergen.png", full_page=True)
    page.get_by_role("button", name="Jeg har lest og forstått").click()
    expect(page.get_by_role("region", name="Bekreftelse")).to_contain_text("Du bekreftet versjon")
    assert Acknowledgement.objects.filter(person=nora).count() == 1
    assert SignInIdentity.objects.get().person == nora

    # Signing out ends Håndboka's session, then the provider's (its own confirmation page).
    page.get_by_role("navigation", name="Hovedmeny").get_by_role("button", name="Logg ut").click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(oidc.bergen.issuer)}/oauth2/end_session"))
    page.get_by_role("button", name="End session").click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(live_server.url)}/logg-ut/"))
    expect(page.get_by_role("main")).to_contain_text("Du er logget ut")
    assert nora.pk not in signed_in_people()

    # Moskenes' provider knows someone with Nora's subject, e-mail and number: not Bergen's Nora.
    page.goto("/moskenes/logg-inn/")
    page.get_by_role("button", name="bergen-b4001").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Vi fant deg ikke i Håndboka")
    assert_accessible(page, "the refusal page")
    assert nora.pk not in signed_in_people()
    assert SignInIdentity.objects.count() == 1
    assert SignInEvent.objects.filter(organisation=moskenes).get().outcome == Outcome.UNKNOWN


def test_the_page_that_hands_over_to_the_providers_logout_is_accessible(
    page, live_server, transactional_db, oidc
):
    bergen = make_organisation("Bergen kommune", "bergen")
    make_signin_config(bergen, oidc.bergen.issuer)
    make_person(bergen, email="kari@bergen.test")
    page.goto("/logg-inn/bergen/")
    page.locator("input[name=sub]").fill("kari@bergen.test")
    page.get_by_role("button", name="Authorize").click()
    expect(page.get_by_role("navigation", name="Hovedmeny")).to_contain_text("Test")
    # Hold the browser on Håndboka's page: a 204 answer leaves the current page in place.
    page.route(
        f"{oidc.bergen.issuer}/oauth2/end_session**", lambda route: route.fulfill(status=204)
    )
    page.get_by_role("navigation", name="Hovedmeny").get_by_role("button", name="Logg ut").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Du er logget ut av Håndboka")
    assert_accessible(page, "the provider logout page")
    page.set_viewport_size({"width": 320, "height": 640})
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 320
    assert_accessible(page, "the provider logout page at 320 px")


@pytest.fixture
def hostile_bergen(transactional_db, oidc):
    """Bergen signing in through the hostile provider; Kari is the person it names."""
    bergen = make_organisation("Bergen kommune", "bergen")
    make_signin_config(bergen, oidc.hostile.issuer)
    kari = make_person(bergen, email="kari@bergen.test")
    return bergen, kari


KARI = {"sub": "kari-subject", "email": "kari@bergen.test"}


def test_the_hostile_provider_signs_in_when_it_behaves_so_its_refusals_mean_something(
    page, live_server, hostile_bergen, oidc
):
    bergen, kari = hostile_bergen
    oidc.hostile.set_mode("good", KARI)
    response = page.goto("/logg-inn/bergen/")
    assert response.status == 200
    expect(page.get_by_role("navigation", name="Hovedmeny")).to_contain_text(kari.display_name)
    assert SignInIdentity.objects.get().person == kari

    # The other hostile process publishes the key that "foreign_key" signs Bergen's tokens with:
    # it is a real kommune's key, and it does sign people into that kommune.
    moskenes = make_organisation("Moskenes kommune", "moskenes")
    make_signin_config(moskenes, oidc.hostile_other.issuer)
    ola = make_person(moskenes, email="ola@moskenes.test")
    oidc.hostile_other.set_mode("good", {"sub": "ola", "email": "ola@moskenes.test"})
    page.context.clear_cookies()
    page.goto("/logg-inn/moskenes/")
    expect(page.get_by_role("navigation", name="Hovedmeny")).to_contain_text(ola.display_name)


@dataclass(frozen=True)
class Hostile:
    mode: str
    status: int
    heading: str
    outcome: str


HOSTILE = [
    Hostile("wrong_issuer", 400, "Innloggingen kunne ikke fullføres", Outcome.INVALID_TOKEN),
    Hostile("foreign_key", 400, "Innloggingen kunne ikke fullføres", Outcome.INVALID_TOKEN),
    Hostile("foreign_kid", 400, "Innloggingen kunne ikke fullføres", Outcome.INVALID_TOKEN),
    Hostile("expired", 400, "Innloggingen kunne ikke fullføres", Outcome.INVALID_TOKEN),
    Hostile("nonce", 400, "Innloggingen kunne ikke fullføres", Outcome.INVALID_TOKEN),
    Hostile("audience", 400, "Innloggingen kunne ikke fullføres", Outcome.INVALID_TOKEN),
    Hostile("hs256", 400, "Innloggingen kunne ikke fullføres", Outcome.INVALID_TOKEN),
    Hostile("no_id_token", 400, "Innloggingen kunne ikke fullføres", Outcome.INVALID_TOKEN),
    Hostile("token_error", 400, "Innloggingen kunne ikke fullføres", Outcome.INVALID_TOKEN),
    Hostile("token_garbage", 502, "Bergen kommunes pålogging svarer ikke", Outcome.UNAVAILABLE),
    Hostile("token_down", 502, "Bergen kommunes pålogging svarer ikke", Outcome.UNAVAILABLE),
    Hostile("discovery_garbage", 502, "Bergen kommunes pålogging svarer ikke", Outcome.UNAVAILABLE),
    Hostile(
        "discovery_wrong_issuer", 400, "Innloggingen kunne ikke fullføres", Outcome.INVALID_TOKEN
    ),
]


def snapshot() -> dict:
    return {
        "people": list(Person.objects.order_by("pk").values()),
        "identities": SignInIdentity.objects.count(),
        "events": SignInEvent.objects.count(),
    }


def assert_refused_and_nothing_written(page, response, before: dict, case: Hostile):
    assert response is not None and response.status == case.status, (case.mode, response.status)
    expect(page.get_by_role("heading", level=1)).to_have_text(case.heading)
    assert page.locator("html").get_attribute("lang") == "nb"
    expect(page.get_by_role("navigation", name="Hovedmeny")).to_contain_text("Logg inn")
    after = snapshot()
    assert after["people"] == before["people"]
    assert after["identities"] == before["identities"]
    assert after["events"] == before["events"] + 1
    assert SignInEvent.objects.order_by("-pk").first().outcome == case.outcome
    assert not signed_in_people()


@pytest.mark.parametrize("case", HOSTILE, ids=lambda c: c.mode)
def test_a_hostile_or_broken_provider_signs_nobody_in_and_changes_nothing(
    page, live_server, hostile_bergen, oidc, case
):
    oidc.hostile.set_mode(case.mode, KARI)
    before = snapshot()
    response = page.goto("/logg-inn/bergen/")
    assert_refused_and_nothing_written(page, response, before, case)


def test_a_provider_that_is_not_there_at_all_gets_a_norwegian_page(
    page, live_server, transactional_db
):
    bergen = make_organisation("Bergen kommune", "bergen")
    make_signin_config(bergen, f"http://127.0.0.1:{free_port()}")
    before = snapshot()
    response = page.goto("/logg-inn/?kommune=bergen")
    case = Hostile("down", 502, "Bergen kommunes pålogging svarer ikke", Outcome.UNAVAILABLE)
    assert_refused_and_nothing_written(page, response, before, case)


@pytest.fixture
def mock_bergen(transactional_db, oidc):
    bergen = make_organisation("Bergen kommune", "bergen")
    make_signin_config(bergen, oidc.bergen.issuer)
    return bergen


def sign_in_at_mock(page, sub: str):
    page.goto("/logg-inn/bergen/")
    page.locator("input[name=sub]").fill(sub)
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Authorize").click()
    return navigation.value


def test_an_unknown_person_gets_a_page_saying_what_to_do(page, live_server, mock_bergen):
    before = snapshot()
    response = sign_in_at_mock(page, "ukjent@bergen.test")
    case = Hostile("unknown", 403, "Vi fant deg ikke i Håndboka", Outcome.UNKNOWN)
    assert_refused_and_nothing_written(page, response, before, case)
    expect(page.get_by_role("main")).to_contain_text("nærmeste leder")


def test_a_deactivated_person_gets_a_page_saying_why(page, live_server, mock_bergen):
    make_person(mock_bergen, email="sluttet@bergen.test", is_active=False)
    before = snapshot()
    response = sign_in_at_mock(page, "sluttet@bergen.test")
    case = Hostile("inactive", 403, "Brukeren din i Håndboka er deaktivert", Outcome.INACTIVE)
    assert_refused_and_nothing_written(page, response, before, case)


def test_a_replayed_callback_and_one_without_state_are_refused(
    page, live_server, mock_bergen, oidc
):
    make_person(mock_bergen, email="kari@bergen.test")
    callbacks = []
    page.on(
        "request",
        lambda request: callbacks.append(request.url) if "/retur/" in request.url else None,
    )
    sign_in_at_mock(page, "kari@bergen.test")
    page.get_by_role("navigation", name="Hovedmeny").get_by_role("button", name="Logg ut").click()
    page.get_by_role("button", name="End session").click()  # the provider's own confirmation
    expect(page.get_by_role("main")).to_contain_text("Du er logget ut")

    state_case = Hostile("state", 400, "Innloggingen er utløpt eller allerede brukt", Outcome.STATE)
    before = snapshot()
    assert_refused_and_nothing_written(page, page.goto(callbacks[0]), before, state_case)
    before = snapshot()
    response = page.goto("/logg-inn/bergen/retur/?code=noe")
    assert_refused_and_nothing_written(page, response, before, state_case)


def test_a_code_already_used_is_refused(page, live_server, mock_bergen, oidc, context):
    make_person(mock_bergen, email="kari@bergen.test")
    callbacks = []
    page.on(
        "request",
        lambda request: callbacks.append(request.url) if "/retur/" in request.url else None,
    )
    sign_in_at_mock(page, "kari@bergen.test")
    used_code = re.search(r"code=([^&]+)", callbacks[0]).group(1)
    # Another browser, so to speak: the first one's session is gone.
    context.clear_cookies()
    Session.objects.all().delete()

    # A fresh sign-in, whose redirect back from the provider is made to carry the used code
    # (Playwright cannot route a redirect hop, so the provider's answer is rewritten instead).
    def swap_code(route):
        if route.request.method != "POST":
            return route.continue_()
        answer = route.fetch(max_redirects=0)
        location = re.sub(r"code=[^&]+", f"code={used_code}", answer.headers["location"])
        return route.fulfill(status=302, headers={"Location": location})

    page.route(f"{oidc.bergen.issuer}/oauth2/authorize?**", swap_code)
    before = snapshot()
    response = sign_in_at_mock(page, "kari@bergen.test")
    case = Hostile("reused", 400, "Innloggingen kunne ikke fullføres", Outcome.INVALID_TOKEN)
    assert_refused_and_nothing_written(page, response, before, case)


def test_a_nonce_changed_on_the_way_to_the_provider_is_refused(
    page, live_server, mock_bergen, oidc
):
    """The honest mock echoes the nonce it is given; a different one must fail the check."""
    make_person(mock_bergen, email="kari@bergen.test")

    def change_nonce(route):
        if route.request.method == "POST":
            route.continue_(url=re.sub(r"nonce=[^&]+", "nonce=en-annen", route.request.url))
        else:
            route.continue_()

    page.route(f"{oidc.bergen.issuer}/oauth2/authorize?**", change_nonce)
    before = snapshot()
    response = sign_in_at_mock(page, "kari@bergen.test")
    case = Hostile("nonce", 400, "Innloggingen kunne ikke fullføres", Outcome.INVALID_TOKEN)
    assert_refused_and_nothing_written(page, response, before, case)
