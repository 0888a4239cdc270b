import csv
import datetime
import io
import json
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from people.language import organisation_language
from people.models import Person
from policies.acknowledgements import acknowledge
from policies.models import Acknowledgement, ChangeKind, Policy, Visibility
from policies.workflow import create_draft

from .factories import make_organisation, make_person, make_policy, make_unit, publish_version

pytestmark = pytest.mark.django_db

MOSKENES = "/moskenes/sosiale-medier/"


def person(username):
    return Person.objects.get(username=username)


def moskenes_policy():
    return Policy.objects.get(organisation__slug="moskenes", slug="sosiale-medier")


def confirm_form(policy):
    version = policy.versions.current().get()
    return {"versjon": version.number, "tekst": version.text_hash}


# The confirmation block on the policy page.


def test_a_person_in_the_audience_sees_the_statement_and_the_button(client, handbook):
    client.force_login(person("ansatt.moskenes"))
    html = client.get(MOSKENES).content.decode()
    assert "Jeg har lest og forstått retningslinjene" in html
    assert 'action="/moskenes/sosiale-medier/bekreft/"' in html
    assert html.index("Jeg har lest og forstått") > html.index('class="policy-text"')


def test_an_anonymous_reader_never_sees_the_button(client, handbook):
    html = client.get(MOSKENES).content.decode()
    assert "Jeg har lest og forstått" not in html
    assert "/bekreft/" not in html


def test_a_person_of_another_organisation_never_sees_the_button(client, handbook):
    client.force_login(person("ansatt.bergen"))
    html = client.get(MOSKENES).content.decode()
    assert "Jeg har lest og forstått" not in html


def test_a_person_outside_the_units_of_the_audience_never_sees_the_button(client):
    org = make_organisation()
    unit, other = make_unit(org), make_unit(org)
    policy = make_policy(org, audience_all=False)
    policy.audience_units.set([unit])
    client.force_login(make_person(org, unit=other))
    assert "Jeg har lest og forstått" not in client.get(policy.get_absolute_url()).content.decode()


def test_the_anonymous_policy_page_still_takes_at_most_four_queries(client, handbook):
    # The kommune's målform costs the first visitor of the minute one more query (people.language).
    organisation_language("moskenes")
    with CaptureQueriesContext(connection) as queries:
        assert client.get(MOSKENES).status_code == 200
    assert len(queries) <= 4


def test_a_signed_in_employees_policy_page_takes_at_most_three_queries_and_two_when_cached(
    client, handbook, django_assert_max_num_queries
):
    # The person (with kommune and manager flag); the policy with its event stamp and the
    # obligation, in one statement; the versions (with their contents). The session comes from
    # the shared cache (people.sessions). The page frame itself asks nothing more. Once the
    # page's shared parts are in the cache (policies.pageparts), the versions are not read.
    client.force_login(person("ansatt.moskenes"))
    with django_assert_max_num_queries(3):
        html = client.get(MOSKENES).content.decode()
    assert "Jeg har lest og forstått" in html and "policy-toc" in html
    assert 'href="/oversikt/"' not in html
    client.force_login(person("leder.moskenes"))
    with django_assert_max_num_queries(2):
        html = client.get(MOSKENES).content.decode()
    assert 'href="/oversikt/"' in html


def test_an_old_version_page_has_no_button(client, handbook):
    client.force_login(person("ansatt.moskenes"))
    html = client.get(f"{MOSKENES}versjon/1/").content.decode()
    assert "Jeg har lest og forstått" not in html


# Confirming.


def test_confirming_records_one_row_and_shows_the_receipt(client, handbook):
    client.force_login(person("ansatt.moskenes"))
    response = client.post(f"{MOSKENES}bekreft/", confirm_form(moskenes_policy()))
    assert response.status_code == 302
    assert response["Location"] == f"{MOSKENES}#kvittering"
    html = client.get(MOSKENES).content.decode()
    assert "Bekreftet: du har lest og forstått versjon 2" in html
    assert "Du bekreftet versjon 2" in html
    assert "Bekreft at jeg har lest og forstått" not in html
    ack = Acknowledgement.objects.get()
    assert ack.person.username == "ansatt.moskenes" and ack.version.number == 2


def test_a_double_click_leaves_one_row_and_the_same_receipt(client, handbook):
    client.force_login(person("ansatt.moskenes"))
    form = confirm_form(moskenes_policy())
    client.post(f"{MOSKENES}bekreft/", form)
    receipt = Acknowledgement.objects.get()  # as stored by the first click
    first = client.get(MOSKENES).content.decode()
    client.post(f"{MOSKENES}bekreft/", form)
    second = client.get(MOSKENES).content.decode()

    assert Acknowledgement.objects.count() == 1
    stored = Acknowledgement.objects.get()
    assert (stored.pk, stored.acknowledged_at) == (receipt.pk, receipt.acknowledged_at)
    # Both clicks were answered with the same receipt: the time of the first confirmation.
    shown = re.compile(r"Bekreftet: du har lest og forstått versjon 2 [^(]*\(([^)]*)\)")
    assert shown.findall(first) == shown.findall(second) != []
    assert first.count("Du bekreftet versjon 2") == second.count("Du bekreftet versjon 2") == 1


def test_anonymous_cannot_confirm_and_is_sent_to_log_in(client, handbook):
    response = client.post(f"{MOSKENES}bekreft/", confirm_form(moskenes_policy()))
    assert response.status_code == 302
    assert response["Location"].startswith("/logg-inn/?next=")
    assert not Acknowledgement.objects.exists()


def test_confirming_is_post_only_and_a_get_goes_back_to_the_policy(client, handbook):
    client.force_login(person("ansatt.moskenes"))
    response = client.get(f"{MOSKENES}bekreft/")
    assert (response.status_code, response["Location"]) == (302, MOSKENES)
    assert client.put(f"{MOSKENES}bekreft/").status_code == 405
    assert not Acknowledgement.objects.exists()


def test_confirming_after_the_session_expired_brings_the_reader_back_to_the_button(
    client, handbook
):
    # The session ran out while the page was open: the click is sent to sign in, with the
    # confirmation's own address as `next`, which the browser then asks for with GET.
    response = client.post(f"{MOSKENES}bekreft/", confirm_form(moskenes_policy()))
    login, _, query = response["Location"].partition("?")
    assert login == "/logg-inn/" and query == f"next={MOSKENES}bekreft/"
    client.force_login(person("ansatt.moskenes"))
    response = client.get(f"{MOSKENES}bekreft/", follow=True)
    assert response.redirect_chain == [(MOSKENES, 302)] and response.status_code == 200
    assert "Bekreft at jeg har lest og forstått" in response.content.decode()
    assert not Acknowledgement.objects.exists()


def test_the_other_form_addresses_answer_a_get_with_their_page(client, handbook):
    client.force_login(person("ansatt.moskenes"))
    assert client.get("/meg/varsler/")["Location"] == "/meg/"
    assert client.get("/sprak/")["Location"] == "/"
    client.force_login(person("redaktor.bergen"))
    assert client.get("/redaksjon/bergen/sosiale-medier/utkast/start/")["Location"] == (
        "/redaksjon/bergen/sosiale-medier/"
    )
    assert client.get("/redaksjon/synonymer/1/slett/")["Location"] == "/redaksjon/synonymer/"


def test_a_person_of_another_organisation_cannot_confirm(client, handbook):
    client.force_login(person("ansatt.bergen"))
    response = client.post(f"{MOSKENES}bekreft/", confirm_form(moskenes_policy()), follow=True)
    assert "Du er ikke blant dem som skal bekrefte" in response.content.decode()
    assert not Acknowledgement.objects.exists()


def test_another_organisations_internal_policy_is_a_404_when_confirming(client):
    org = make_organisation()
    policy = make_policy(org, visibility=Visibility.INTERNAL)
    client.force_login(make_person(make_organisation()))
    response = client.post(f"{policy.get_absolute_url()}bekreft/", confirm_form(policy))
    assert response.status_code == 404
    assert not Acknowledgement.objects.exists()


def test_csrf_is_enforced_on_confirming(handbook):
    client = Client(enforce_csrf_checks=True)
    client.force_login(person("ansatt.moskenes"))
    response = client.post(f"{MOSKENES}bekreft/", confirm_form(moskenes_policy()))
    assert response.status_code == 403
    assert not Acknowledgement.objects.exists()
    page = client.get(MOSKENES).content.decode()
    token = page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    form = {**confirm_form(moskenes_policy()), "csrfmiddlewaretoken": token}
    assert client.post(f"{MOSKENES}bekreft/", form).status_code == 302
    assert Acknowledgement.objects.count() == 1


def test_confirming_a_version_that_is_no_longer_current_records_nothing(client, handbook):
    client.force_login(person("ansatt.moskenes"))
    stale = confirm_form(moskenes_policy())
    publish_version(moskenes_policy(), body="## Ny\n\nNy tekst.\n")
    response = client.post(f"{MOSKENES}bekreft/", stale, follow=True)
    html = response.content.decode()
    assert "Versjon 2 er ikke lenger gjeldende" in html
    assert f'href="{MOSKENES}">Gå til gjeldende versjon</a>' in html
    assert not Acknowledgement.objects.exists()


@pytest.mark.parametrize(
    "form",
    [
        {},
        {"versjon": "x"},
        {"versjon": "99"},
        {"versjon": "-1"},
        {"versjon": "99999999999999999999"},
        {"versjon": "2", "tekst": "feil"},
        {"versjon": "2", "tekst": "\x00" * 100},
    ],
)
def test_bad_confirmation_forms_get_a_message_and_record_nothing(client, handbook, form):
    client.force_login(person("ansatt.moskenes"))
    response = client.post(f"{MOSKENES}bekreft/", form, follow=True)
    assert response.status_code == 200
    assert "Ingenting er registrert" in response.content.decode()
    assert not Acknowledgement.objects.exists()


def test_after_a_material_change_the_page_says_it_must_be_confirmed_again(client, handbook):
    moskenes = person("ansatt.moskenes")
    policy = moskenes_policy()
    v2 = policy.versions.current().get()
    acknowledge(moskenes, v2, shown_hash=v2.text_hash)
    publish_version(policy, body="## Ny\n\nNye regler.\n", change_kind=ChangeKind.MATERIAL)
    client.force_login(moskenes)
    html = client.get(MOSKENES).content.decode()
    assert "Må bekreftes på nytt" in html
    assert "endringer/?fra=2&amp;til=3" in html
    assert "Bekreft at jeg har lest og forstått" in html


# Mine retningslinjer.


def test_the_front_page_shows_mine_retningslinjer_when_logged_in(client, handbook):
    client.force_login(person("ansatt.moskenes"))
    html = client.get("/").content.decode()
    assert "<h1" in html and "Mine retningslinjer" in html
    assert "Må bekreftes" in html and "Veileder for bruk av sosiale medier" in html
    assert "Påkrevd fra" in html


def test_the_front_page_lists_organisations_for_visitors(client, handbook):
    html = client.get("/").content.decode()
    assert "Moskenes kommune" in html and "Må bekreftes" not in html


def test_mine_retningslinjer_shows_what_changed_since_i_confirmed(client, handbook):
    moskenes = person("ansatt.moskenes")
    policy = moskenes_policy()
    v2 = policy.versions.current().get()
    acknowledge(moskenes, v2, shown_hash=v2.text_hash)
    publish_version(policy, body="## Ny\n\nNye regler.\n", change_kind=ChangeKind.EDITORIAL)
    client.force_login(moskenes)
    html = client.get("/").content.decode()
    assert 'href="/moskenes/sosiale-medier/endringer/?fra=2&amp;til=3"' in html
    assert "bekreftelsen din gjelder fortsatt" in html


# /meg/ and my data.


def confirmed_pair(handbook_people=("ansatt.moskenes", "leder.moskenes")):
    policy = moskenes_policy()
    version = policy.versions.current().get()
    for username in handbook_people:
        acknowledge(person(username), version, shown_hash=version.text_hash)


def test_me_shows_only_my_own_confirmations(client, handbook):
    confirmed_pair()
    client.force_login(person("ansatt.moskenes"))
    html = client.get("/meg/").content.decode()
    assert "Mine bekreftelser" in html
    assert html.count('<td data-label="Versjon">2</td>') == 1
    assert "Line Hansen" not in html


def test_my_json_contains_only_my_rows(client, handbook):
    confirmed_pair()
    client.force_login(person("ansatt.moskenes"))
    response = client.get("/meg/mine-data.json")
    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["person"]["brukernavn"] == "ansatt.moskenes"
    assert len(data["bekreftelser"]) == 1
    assert data["bekreftelser"][0]["versjon"] == 2
    assert "leder.moskenes" not in response.content.decode()


def test_my_csv_contains_only_my_rows(client, handbook):
    confirmed_pair()
    client.force_login(person("ansatt.moskenes"))
    response = client.get("/meg/mine-bekreftelser.csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 1
    assert rows[0]["Kommune"] == "Moskenes kommune" and rows[0]["Versjon"] == "2"
    # Written for people: the product's date style, the receipt's reference, nothing technical.
    assert re.fullmatch(r"\d\d\.\d\d\.\d{4} kl\. \d\d\.\d\d", rows[0]["Bekreftet"])
    assert rows[0]["Kvittering"].startswith("B-")
    assert "teksthash" not in response.content.decode().lower()


@pytest.mark.parametrize("url", ["/meg/", "/meg/mine-data.json", "/meg/mine-bekreftelser.csv"])
def test_my_pages_need_a_login(client, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/logg-inn/")


# What changed.


def test_the_changes_page_shows_a_word_level_difference(client, handbook):
    response = client.get(f"{MOSKENES}endringer/?fra=1&til=2")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<del class="diff-del"><span class="ds-sr-only" lang="nb">Fjernet: </span>' in html
    assert '<ins class="diff-ins"><span class="ds-sr-only" lang="nb">Lagt til: </span>' in html
    assert "Endringsnotat for versjon 2" in html


def test_the_changes_page_without_a_choice_shows_the_latest_change(client, handbook):
    response = client.get(f"{MOSKENES}endringer/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Endringsnotat for versjon 2" in html and '<ins class="diff-ins">' in html
    assert "Velg hvilke to versjoner" not in html


def test_the_changes_page_of_a_policy_with_one_version_offers_the_form(client, handbook):
    response = client.get("/bergen/sosiale-medier/endringer/")
    assert response.status_code == 200
    assert "Velg hvilke to versjoner" in response.content.decode()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?fra=1", "Velg hvilke to versjoner"),
        ("?fra=&til=", "Velg hvilke to versjoner"),
        ("?fra=a&til=2", "må oppgis som tall"),
        ("?fra=1&til=99", "Versjon 99 finnes ikke"),
        ("?fra=-1&til=2", "Versjon -1 finnes ikke"),
        ("?fra=2&til=2", "to ulike versjoner"),
        ("?fra=1&til=99999999999999999999", "finnes ikke"),
        ("?fra=%00&til=2", "må oppgis som tall"),
    ],
)
def test_bad_changes_parameters_get_a_clear_message(client, handbook, query, message):
    response = client.get(f"{MOSKENES}endringer/{query}")
    assert response.status_code == 400
    assert message in response.content.decode()
    assert 'name="fra"' in response.content.decode()


def test_a_reversed_comparison_goes_to_the_address_in_order(client):
    policy = make_policy(make_organisation())
    publish_version(policy, body="## Formål\n\nAndre tekst.\n", change_note="Ny formålstekst.")
    publish_version(policy, body="## Formål\n\nTredje tekst.\n", change_note="Ny igjen.")
    url = f"{policy.get_absolute_url()}endringer/"
    response = client.get(url, {"fra": "3", "til": "1"})
    assert response.status_code == 302
    assert response["Location"] == f"{url}?fra=1&til=3"
    html = client.get(response["Location"]).content.decode()
    assert "Fra versjon 1" in html and "Endringsnotat for versjon 3" in html
    assert "Endringsnotat for versjon 1" not in html


def test_the_changes_page_of_an_internal_policy_needs_a_login(client):
    policy = make_policy(make_organisation(), visibility=Visibility.INTERNAL)
    publish_version(policy, body="## Ny\n\nTekst.\n")
    response = client.get(f"{policy.get_absolute_url()}endringer/?fra=1&til=2")
    assert response.status_code == 302
    assert response["Location"].startswith("/logg-inn/")


def test_drafts_are_not_compared(client):
    org = make_organisation()
    policy = make_policy(org)
    create_draft(policy, by=None, body="## Hemmelig utkast\n\nIkke publisert.\n")
    response = client.get(f"{policy.get_absolute_url()}endringer/?fra=1&til=2")
    assert response.status_code == 400
    assert "Hemmelig utkast" not in response.content.decode()


# Search page.


def test_the_search_page_shows_count_hits_and_links_to_sections(client, handbook):
    html = client.get("/sok/", {"q": "privatperson"}).content.decode()
    assert "treff for «privatperson»" in html
    # The link names the text's målform: without it a reader whose interface is nynorsk would get
    # a translation, where this anchor is not (policies.search.Hit.link).
    assert 'href="/bergen/sosiale-medier/?sprak=nb#din-rolle-som-privatperson"' in html
    assert "<mark>" in html


def test_the_search_page_offers_a_suggestion_for_a_misspelling(client, handbook):
    html = client.get("/sok/", {"q": "privatpersn sosiale"}).content.decode()
    assert "Mente du" in html or "Viser treff for" in html


def test_the_search_page_pages_with_ds_pagination(client):
    org = make_organisation()
    body = "".join(f"## Avsnitt {i}\n\nBladord nummer {i}.\n\n" for i in range(45))
    make_policy(org, body=body)
    html = client.get("/sok/", {"q": "bladord", "side": "2"}).content.decode()
    assert 'class="ds-pagination"' in html
    assert 'aria-current="true" aria-label="Side 2"' in html
    assert "45 treff" in html


def test_my_data_page_shows_everything_about_me_readably(client, handbook):
    from axes.models import AccessFailureLog

    from policies.models import Reminder

    confirmed_pair()
    me = person("ansatt.moskenes")
    policy = Policy.objects.get(organisation__slug="moskenes", slug="sosiale-medier")
    Reminder.objects.create(person=me, policy=policy, sent_by=person("leder.moskenes"))
    AccessFailureLog.objects.create(username=me.username, ip_address="10.1.2.3", user_agent="t")
    client.force_login(me)

    page = client.get("/meg/mine-data/").content.decode()
    for heading in (
        "Om deg",
        "Roller",
        "Bekreftelser (1)",
        "Påminnelser du har fått (1)",
        "Ukesoversikter du har fått (0)",
        "Innlogginger og mislykkede",
    ):
        assert heading in page, heading
    assert me.email in page and "10.1.2.3" in page and policy.title in page
    # The manager who sent the reminder is not part of my data.
    assert "leder.moskenes" not in page

    data = json.loads(client.get("/meg/mine-data.json").content)
    assert data["paminnelser"][0]["retningslinje"] == policy.title
    assert data["roller"]["redaktor"] == "nei"
    assert data["innlogginger"][0]["utfall"] == "mislyktes"


def test_my_data_page_uses_the_products_date_style_and_the_receipts_reference(client, handbook):
    from policies.models import DigestDelivery

    confirmed_pair()
    me = person("ansatt.moskenes")
    DigestDelivery.objects.create(person=me, week=datetime.date(2026, 11, 23), kind="person")
    client.force_login(me)
    page = client.get("/meg/mine-data/").content.decode()
    assert re.search(r"Hentet \d\d\.\d\d\.\d{4} kl\. \d\d\.\d\d\.", page)
    assert "<td>23.11.2026</td>" in page and "2026-11-23" not in page
    # The glossary: a confirmation is named by its receipt's reference, never by a text hash.
    assert "teksthash" not in page.lower()
    assert '<th scope="col">Referanse</th>' in page
    assert Acknowledgement.objects.get(person=me).reference in page


def test_the_main_menu_marks_the_page_being_shown(client, handbook):
    client.force_login(person("ansatt.bergen"))
    html = client.get("/").content.decode()
    # As an attribute, not as escaped text.
    assert re.search(r'<a class="ds-link" href="/" aria-current="page">Mine retningslinjer', html)
    assert "&quot;page&quot;" not in html
    search = client.get("/sok/", {"q": "sosiale"}).content.decode()
    assert 'href="/" aria-current' not in search


def test_my_data_page_speaks_nynorsk_and_the_json_keeps_its_values(client, handbook):
    from axes.models import AccessFailureLog

    confirmed_pair()
    me = person("ansatt.moskenes")
    me.language = "nn"
    me.save(update_fields=["language"])
    AccessFailureLog.objects.create(username=me.username, ip_address="10.1.2.3", user_agent="t")
    client.force_login(me)
    page = client.get("/meg/mine-data/").content.decode()
    for text in ("Stadfestingar (1)", '<th scope="col">Målform</th>', "mislukka", "Ser heile"):
        assert text in page, text
    data = json.loads(client.get("/meg/mine-data.json").content)
    assert data["innlogginger"][0]["utfall"] == "mislyktes"
    assert data["roller"]["redaktor"] == "nei"


def test_reading_addresses_answer_head_as_get_for_link_checkers(client, handbook):
    # curl -I, uptime monitors and link checkers ask with HEAD; a 405 there reads as a dead link.
    for url in ("/sok/?q=facebook", f"{MOSKENES}endringer/?fra=1&til=2", MOSKENES):
        response = client.head(url)
        assert response.status_code == 200, url
        assert response.content == b""
