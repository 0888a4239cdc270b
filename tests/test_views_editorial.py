"""The editorial pages under /redaksjon/: access by role and by object, drafts, conflicts, publishing,
retiring, reuse, history, and bad input."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from people.models import Person
from policies.models import Event, EventVerb, Policy, PolicyVersion, Status, Visibility
from policies.workflow import create_draft, publish, save_draft

from .factories import make_organisation, make_person, make_policy

pytestmark = pytest.mark.django_db

BERGEN = "/redaksjon/bergen/sosiale-medier/"
POLICY_PAGES = [
    BERGEN,
    BERGEN + "innstillinger/",
    BERGEN + "utkast/",
    BERGEN + "utkast/sammenlign/",
    BERGEN + "publiser/",
    BERGEN + "trekk-tilbake/",
    BERGEN + "gjenopprett/",
    BERGEN + "historikk/",
]
GENERAL_PAGES = [
    "/redaksjon/",
    "/redaksjon/ny/",
    "/redaksjon/gjenbruk/",
    "/redaksjon/gjenbruk/moskenes/sosiale-medier/",
    "/redaksjon/side-om-side/",
]


def person(username: str) -> Person:
    return Person.objects.get(username=username)


def bergen_policy() -> Policy:
    return Policy.objects.get(organisation__slug="bergen", slug="sosiale-medier")


@pytest.fixture
def draft(handbook):
    return create_draft(bergen_policy(), by=person("redaktor.bergen"))


def as_user(client, username: str):
    client.force_login(person(username))
    return client


# --- Access ------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", POLICY_PAGES + GENERAL_PAGES)
def test_anonymous_visitors_are_sent_to_log_in(client, draft, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.url == f"/logg-inn/?next={url}"


@pytest.mark.parametrize("url", POLICY_PAGES + GENERAL_PAGES)
@pytest.mark.parametrize("username", ["ansatt.bergen", "leder.bergen"])
def test_people_without_the_editor_role_are_refused(client, draft, url, username):
    assert as_user(client, username).get(url).status_code == 403


@pytest.mark.parametrize("url", POLICY_PAGES)
def test_an_editor_of_another_organisation_gets_not_found(client, draft, url):
    assert as_user(client, "redaktor.moskenes").get(url).status_code == 404


@pytest.mark.parametrize("url", POLICY_PAGES + GENERAL_PAGES)
def test_the_organisations_own_editor_sees_every_page(client, draft, url):
    response = as_user(client, "redaktor.bergen").get(url)
    assert response.status_code == 200, url
    assert 'lang="nb"' in response.content.decode()


@pytest.mark.parametrize("url", POLICY_PAGES)
def test_a_superuser_may_open_every_organisations_pages(client, draft, url):
    assert as_user(client, "admin").get(url).status_code == 200


def test_editor_of_bergen_cannot_open_save_or_publish_a_moskenes_draft(client, handbook):
    moskenes = Policy.objects.get(organisation__slug="moskenes", slug="sosiale-medier")
    moskenes_draft = create_draft(moskenes, by=person("redaktor.moskenes"))
    base = "/redaksjon/moskenes/sosiale-medier/"
    as_user(client, "redaktor.bergen")

    assert client.get(base + "utkast/").status_code == 404
    saved = client.post(
        base + "utkast/",
        {"title": "Kapret", "body": "Kapret.", "revision": moskenes_draft.revision},
    )
    published = client.post(
        base + "publiser/",
        {
            "draft": moskenes_draft.pk,
            "revision": moskenes_draft.revision,
            "change_kind": "material",
            "change_note": "Kapret.",
            "effective_from": timezone.localdate().isoformat(),
        },
    )
    for response in (
        saved,
        published,
        client.post(base + "utkast/start/"),
        client.post(base + "trekk-tilbake/"),
        client.post(base + "innstillinger/", {"title": "Kapret"}),
    ):
        assert response.status_code == 404
    moskenes_draft.refresh_from_db()
    assert moskenes_draft.body != "Kapret." and moskenes_draft.status == Status.DRAFT
    assert moskenes.versions.exclude(status=Status.DRAFT).count() == 2
    moskenes.refresh_from_db()
    assert not moskenes.is_retired and moskenes.title != "Kapret"


def test_dashboard_shows_only_the_editors_own_organisation(client, handbook):
    html = as_user(client, "redaktor.bergen").get("/redaksjon/").content.decode()
    assert "Retningslinjer for sosiale medier" in html
    assert "Veileder for bruk av sosiale medier" not in html  # Moskenes'


def test_dashboard_query_count_does_not_grow_with_the_number_of_policies(client):
    organisation = make_organisation()
    editor = make_person(organisation, is_editor=True)
    client.force_login(editor)
    make_policy(organisation)
    with CaptureQueriesContext(connection) as few:
        client.get("/redaksjon/")
    for _ in range(5):
        make_policy(organisation)
    with CaptureQueriesContext(connection) as many:
        client.get("/redaksjon/")
    assert len(many) == len(few) <= 6


# --- Creating and changing a policy ---------------------------------------------------------------


def test_editor_creates_a_policy_and_lands_in_its_first_draft(client, handbook):
    as_user(client, "redaktor.bergen")
    unit = person("ansatt.bergen").unit
    response = client.post(
        "/redaksjon/ny/",
        {
            "title": "Bruk av kunstig intelligens",
            "slug": "",
            "summary": "Hva ansatte kan bruke KI til.",
            "audience": "units",
            "audience_units": [unit.pk],
            "audience_elected": "on",
            "visibility": "internal",
            "review_interval_months": "12",
            "deadline_days": "14",
        },
    )
    policy = Policy.objects.get(organisation__slug="bergen", slug="bruk-av-kunstig-intelligens")
    assert response.status_code == 302
    assert response.url == "/redaksjon/bergen/bruk-av-kunstig-intelligens/utkast/"
    assert not policy.audience_all and policy.audience_elected
    assert list(policy.audience_units.all()) == [unit]
    assert policy.visibility == Visibility.INTERNAL
    assert (policy.review_interval_months, policy.deadline_days) == (12, 14)
    assert policy.versions.drafts().count() == 1
    assert Event.objects.filter(policy=policy, verb=EventVerb.POLICY_CREATED).exists()


def test_new_policy_form_suggests_the_address_in_a_script_not_inline(client, handbook):
    html = as_user(client, "redaktor.bergen").get("/redaksjon/ny/").content.decode()
    assert "/static/js/policy-form.js" in html
    assert "<script>" not in html and " style=" not in html


def test_changing_settings_records_an_event(client, handbook):
    as_user(client, "redaktor.bergen")
    response = client.post(
        BERGEN + "innstillinger/",
        {
            "title": "Retningslinjer for sosiale medier",
            "slug": "sosiale-medier",
            "summary": "Kort.",
            "audience": "all",
            "visibility": "public",
            "review_interval_months": "36",
            "deadline_days": "30",
        },
    )
    assert response.status_code == 302
    policy = bergen_policy()
    assert policy.review_interval_months == 36
    event = Event.objects.get(policy=policy, verb=EventVerb.SETTINGS_CHANGED)
    assert event.actor == person("redaktor.bergen")
    assert event.detail["changes"]["review_interval_months"] == [24, 36]


# --- Drafts, saving and the conflict page -------------------------------------------------------


def test_starting_a_draft_twice_opens_the_same_draft(client, handbook):
    as_user(client, "redaktor.bergen")
    first = client.post(BERGEN + "utkast/start/")
    second = client.post(BERGEN + "utkast/start/", follow=True)
    assert first.url == BERGEN + "utkast/"
    assert bergen_policy().versions.drafts().count() == 1
    assert "Det finnes allerede et utkast" in second.content.decode()


def test_editor_page_shows_preview_contents_and_readability(client, draft):
    html = as_user(client, "redaktor.bergen").get(BERGEN + "utkast/").content.decode()
    assert 'data-markdownx-urls-path="/redaksjon/markdownx/markdownify/"' in html
    assert "/static/markdownx/js/markdownx" in html and "/static/js/editor.js" in html
    # The preview is marked with the målform of the text, not the interface's.
    assert (
        'class="markdownx-preview policy-text" lang="nb"><h2 id="hvorfor-bruke-sosiale-medier">'
        in html
    )
    assert "Innholdsfortegnelse" in html and "Din rolle som privatperson" in html
    assert "LIX " in html
    assert f'name="revision" value="{draft.revision}"' in html
    assert "<script>" not in html


def test_saving_a_draft_moves_its_revision_on(client, draft):
    as_user(client, "redaktor.bergen")
    response = client.post(
        BERGEN + "utkast/", {"title": draft.title, "body": "## Ny\n\nNy tekst.", "revision": 1}
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.body, draft.revision) == ("## Ny\n\nNy tekst.", 2)


def test_a_conflicting_save_keeps_both_texts_and_the_refused_text_in_the_form(client, draft):
    other = make_person(draft.policy.organisation, is_editor=True, first_name="Olav")
    save_draft(draft, by=other, title=draft.title, body="Olavs tekst om kommunen.", revision=1)
    as_user(client, "redaktor.bergen")

    response = client.post(
        BERGEN + "utkast/", {"title": draft.title, "body": "Min tekst om kommunen.", "revision": 1}
    )

    html = response.content.decode()
    assert response.status_code == 409
    assert "Teksten din er ikke lagret" in html
    assert "Olav" in html
    # Both texts side by side, and mine still in the editor with the revision now current.
    assert 'id="konflikt-deres"' in html and "Olavs tekst om kommunen." in html
    assert 'id="konflikt-min"' in html
    assert html.count("Min tekst om kommunen.") >= 3  # conflict pane, form, preview
    assert 'name="revision" value="2"' in html
    draft.refresh_from_db()
    assert draft.body == "Olavs tekst om kommunen."

    # Saving again deliberately, after merging, replaces the other text.
    client.post(BERGEN + "utkast/", {"title": draft.title, "body": "Flettet.", "revision": 2})
    draft.refresh_from_db()
    assert draft.body == "Flettet."


def test_text_written_while_the_draft_was_published_is_kept_in_a_new_draft(client, draft):
    as_user(client, "redaktor.bergen")
    publish(draft, by=None, change_kind="editorial", change_note="Publisert av en annen.")

    response = client.post(
        BERGEN + "utkast/",
        {"title": draft.title, "body": "Min nye tekst.", "revision": 1, "draft": draft.pk},
        follow=True,
    )

    assert "Teksten din er lagret i et nytt utkast" in response.content.decode()
    new_draft = bergen_policy().versions.drafts().get()
    assert new_draft.pk != draft.pk and new_draft.body == "Min nye tekst."


def test_text_for_a_published_draft_does_not_overwrite_a_newer_draft(client, draft):
    as_user(client, "redaktor.bergen")
    publish(draft, by=None, change_kind="editorial", change_note="Publisert.")
    newer = create_draft(bergen_policy(), by=None, body="Den nye utkastteksten.")

    response = client.post(
        BERGEN + "utkast/",
        {"title": draft.title, "body": "Min gamle tekst.", "revision": 1, "draft": draft.pk},
    )

    assert response.status_code == 409
    html = response.content.decode()
    assert "Den nye utkastteksten." in html and "Min gamle tekst." in html
    newer.refresh_from_db()
    assert newer.body == "Den nye utkastteksten."


def test_draft_page_without_a_draft_sends_the_editor_to_start_one(client, handbook):
    response = as_user(client, "redaktor.bergen").get(BERGEN + "utkast/", follow=True)
    assert "Start nytt utkast" in response.content.decode()


@pytest.mark.parametrize("next_page", ["", "publiser"])
def test_script_in_a_body_is_saved_with_one_notice_and_never_rendered(client, draft, next_page):
    as_user(client, "redaktor.bergen")
    body = "Tekst.\n\n<script>alert('x')</script>"
    response = client.post(
        BERGEN + "utkast/",
        {"title": draft.title, "body": body, "revision": 1, "neste": next_page},
        follow=True,
    )
    html = response.content.decode()
    # Once: the page the editor lands on warns about its text, not a message about the save too.
    assert html.count("blir fjernet") == 1
    draft.refresh_from_db()
    assert draft.body == body
    assert "<script>alert" not in html


def test_compare_shows_only_the_changed_section_word_by_word_against_the_live_version(
    client, draft
):
    body = draft.body.replace("effektiv kanal", "svært effektiv kanal", 1)
    save_draft(draft, by=None, title=draft.title, body=body, revision=1)
    html = as_user(client, "redaktor.bergen").get(BERGEN + "utkast/sammenlign/").content.decode()
    inserted = re.findall(
        r'<ins class="diff-ins"><span class="ds-sr-only" lang="nb">Lagt til: </span>(.*?)</ins>',
        html,
    )
    assert [text.strip() for text in inserted] == ["svært"]
    assert "Fjernet: </span>" not in html
    # Only the changed section is shown, not the whole text.
    assert html.count('class="diff-section"') == 1


# --- Bad input -----------------------------------------------------------------------------------


def _settings(**changes):
    data = {
        "title": "Ny retningslinje",
        "slug": "",
        "summary": "",
        "audience": "all",
        "visibility": "internal",
        "review_interval_months": "24",
        "deadline_days": "30",
    }
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_settings(title=""), "Skriv en tittel."),
        (_settings(title="   "), "Skriv en tittel."),
        (_settings(slug="sosiale-medier"), "er allerede i bruk"),
        (_settings(slug="Ikke gyldig!"), "små bokstaver"),
        (_settings(title="😀😀😀"), "Vi kunne ikke lage en adresse av tittelen"),
        (_settings(slug="redaksjon"), "reservert"),
        (_settings(review_interval_months="0"), "minst 1 måned"),
        (_settings(review_interval_months="tolv"), "helt antall måneder"),
        (_settings(deadline_days=""), "Skriv antall dager"),
        (_settings(audience="units"), "Velg minst én enhet"),
        (_settings(audience_units=["999999"], audience="units"), "Velg enheter i din egen kommune"),
    ],
)
def test_bad_policy_settings_get_a_norwegian_error_and_change_nothing(
    client, handbook, data, message
):
    before = Policy.objects.count()
    response = as_user(client, "redaktor.bergen").post("/redaksjon/ny/", data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Policy.objects.count() == before


def test_units_of_another_organisation_cannot_be_chosen(client, handbook):
    moskenes_unit = person("ansatt.moskenes").unit
    response = as_user(client, "redaktor.bergen").post(
        "/redaksjon/ny/", _settings(audience="units", audience_units=[moskenes_unit.pk])
    )
    assert "Velg enheter i din egen kommune" in response.content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"title": "", "body": "Tekst.", "revision": "1"}, "Skriv en tittel."),
        ({"title": "T", "body": "a" * 200_001, "revision": "1"}, "Teksten er for lang"),
        ({"title": "T", "body": "Tekst."}, "Last siden på nytt"),
        ({"title": "T", "body": "Tekst.", "revision": "tull"}, "Last siden på nytt"),
        ({"title": "T", "body": "Tekst.", "revision": "9" * 30}, "Last siden på nytt"),
        # A NUL in the title is removed (tests/test_input_hygiene.py); in the body it is refused.
        ({"title": "T", "body": "Tekst\x00.", "revision": "1"}, "Null"),
    ],
)
def test_bad_draft_input_gets_a_norwegian_error_and_changes_nothing(client, draft, data, message):
    response = as_user(client, "redaktor.bergen").post(BERGEN + "utkast/", data)
    assert response.status_code == 200
    assert message in response.content.decode()
    saved = PolicyVersion.objects.get(pk=draft.pk)
    assert (saved.body, saved.revision) == (draft.body, draft.revision)


def _publish_data(draft, **changes):
    data = {
        "draft": draft.pk,
        "revision": draft.revision,
        "change_kind": "editorial",
        "change_note": "Rettet skrivefeil.",
        "adopted_by": "",
        "adopted_on": "",
        "effective_from": timezone.localdate().isoformat(),
    }
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"change_note": ""}, "Skriv et endringsnotat."),
        ({"change_note": "   "}, "Skriv et endringsnotat."),
        ({"change_note": "a" * 20_000}, "Endringsnotatet kan være på høyst 2000 tegn."),
        ({"change_kind": ""}, "Velg om endringen er redaksjonell eller vesentlig."),
        ({"change_kind": "kosmetisk"}, "Velg om endringen er redaksjonell eller vesentlig."),
        ({"effective_from": "2020-01-01"}, "kan ikke være tilbake i tid"),
        ({"effective_from": "2026-02-30"}, "Skriv en gyldig dato"),
        ({"effective_from": "i morgen"}, "Skriv en gyldig dato"),
        ({"effective_from": ""}, "Skriv datoen versjonen skal gjelde fra."),
        ({"adopted_on": "31.02.2015"}, "Skriv en gyldig dato"),
        ({"adopted_on": "0001-01-01"}, "Skriv en gyldig dato"),
    ],
)
def test_bad_publish_input_gets_a_norwegian_error_and_publishes_nothing(
    client, draft, changes, message
):
    response = as_user(client, "redaktor.bergen").post(
        BERGEN + "publiser/", _publish_data(draft, **changes)
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert PolicyVersion.objects.get(pk=draft.pk).status == Status.DRAFT


def test_a_request_over_the_size_limit_gets_a_norwegian_page_not_a_server_error(client, draft):
    response = as_user(client, "redaktor.bergen").post(
        BERGEN + "utkast/", {"title": "T", "body": "æ" * 1_500_000, "revision": "1"}
    )
    assert response.status_code == 400
    assert "for mye data" in response.content.decode()
    assert PolicyVersion.objects.get(pk=draft.pk).body == draft.body


@pytest.mark.parametrize("draft_id", ["", "tull", "9" * 30, "-1"])
def test_publish_with_a_nonsense_draft_id_publishes_nothing(client, draft, draft_id):
    response = as_user(client, "redaktor.bergen").post(
        BERGEN + "publiser/", {**_publish_data(draft), "draft": draft_id}
    )
    assert response.status_code == 302
    assert PolicyVersion.objects.get(pk=draft.pk).status == Status.DRAFT


# --- Publishing --------------------------------------------------------------------------------


def test_publishing_makes_the_draft_current_and_double_submit_makes_no_second_version(
    client, draft
):
    as_user(client, "redaktor.bergen")
    data = _publish_data(draft, adopted_by="AMU", adopted_on="14.12.2015")

    first = client.post(BERGEN + "publiser/", data)
    second = client.post(BERGEN + "publiser/", data, follow=True)

    assert first.status_code == 302
    policy = bergen_policy()
    current = policy.versions.current().get()
    assert current.number == 2 and current.adopted_by == "AMU"
    assert current.adopted_on == datetime.date(2015, 12, 14)
    assert current.published_by == person("redaktor.bergen")
    assert policy.versions.count() == 2
    assert "allerede publisert" in second.content.decode()


def test_publishing_a_draft_saved_by_someone_else_meanwhile_is_refused(client, draft):
    as_user(client, "redaktor.bergen")
    data = _publish_data(draft)
    save_draft(draft, by=None, title=draft.title, body="Endret i mellomtiden.", revision=1)
    response = client.post(BERGEN + "publiser/", data, follow=True)
    assert "Noen har lagret utkastet" in response.content.decode()
    assert bergen_policy().versions.drafts().count() == 1


def test_a_later_effective_date_schedules_the_version(client, draft):
    as_user(client, "redaktor.bergen")
    later = timezone.localdate() + datetime.timedelta(days=14)
    response = client.post(
        BERGEN + "publiser/", _publish_data(draft, effective_from=later.isoformat()), follow=True
    )
    assert "er planlagt" in response.content.decode()
    version = PolicyVersion.objects.get(pk=draft.pk)
    assert version.status == Status.SCHEDULED and version.effective_from == later
    assert bergen_policy().versions.current().get().number == 1


def test_publish_page_without_a_draft_explains_and_redirects(client, handbook):
    response = as_user(client, "redaktor.bergen").get(BERGEN + "publiser/", follow=True)
    assert "Det finnes ikke noe utkast" in response.content.decode()


# --- Retire and restore, history ------------------------------------------------------------


def test_retire_asks_first_then_retires_and_restore_brings_it_back(client, handbook):
    as_user(client, "redaktor.bergen")
    confirm_page = client.get(BERGEN + "trekk-tilbake/")
    assert "Ja, trekk tilbake" in confirm_page.content.decode()
    assert not bergen_policy().is_retired

    client.post(BERGEN + "trekk-tilbake/")
    assert bergen_policy().is_retired
    assert "trukket tilbake" in client.get("/bergen/sosiale-medier/").content.decode()

    client.post(BERGEN + "gjenopprett/")
    assert not bergen_policy().is_retired
    verbs = list(Event.objects.filter(policy=bergen_policy()).values_list("verb", flat=True)[:2])
    assert verbs == [EventVerb.RESTORED, EventVerb.RETIRED]


def test_history_shows_who_did_what_and_when(client, draft):
    as_user(client, "redaktor.bergen")
    client.post(BERGEN + "publiser/", _publish_data(draft))
    html = client.get(BERGEN + "historikk/").content.decode()
    assert "Publisert" in html and "Utkast opprettet" in html
    assert person("redaktor.bergen").display_name in html
    assert "Redaksjonell endring" in html


# --- Reuse across organisations ------------------------------------------------------------------


def test_reuse_list_offers_public_policies_of_other_organisations(client, handbook):
    html = as_user(client, "redaktor.bergen").get("/redaksjon/gjenbruk/").content.decode()
    assert "Moskenes kommune" in html and "Bodø kommune" in html
    assert "/redaksjon/gjenbruk/bergen/" not in html


def test_start_from_moskenes_creates_a_bergen_draft_that_shows_where_it_came_from(client, handbook):
    as_user(client, "redaktor.bergen")
    response = client.post(
        "/redaksjon/gjenbruk/moskenes/sosiale-medier/",
        {"title": "Veileder for sosiale medier", "slug": "veileder-sosiale-medier"},
    )
    assert response.url == "/redaksjon/bergen/veileder-sosiale-medier/utkast/"
    policy = Policy.objects.get(organisation__slug="bergen", slug="veileder-sosiale-medier")
    source = Policy.objects.get(organisation__slug="moskenes").versions.current().get()
    assert policy.based_on == source
    assert policy.versions.drafts().get().body == source.body
    assert (
        Event.objects.get(policy=policy, verb=EventVerb.POLICY_CREATED).detail["based_on"][
            "version"
        ]
        == source.number
    )

    draft = policy.versions.drafts().get()
    client.post(
        "/redaksjon/bergen/veileder-sosiale-medier/publiser/",
        _publish_data(draft, change_kind="material"),
    )
    page = client.get("/bergen/veileder-sosiale-medier/").content.decode()
    assert "Basert på" in page and "Moskenes kommunes retningslinjer, versjon 2" in page


def test_internal_policies_of_other_organisations_cannot_be_reused(client, handbook):
    moskenes = Policy.objects.get(organisation__slug="moskenes")
    moskenes.visibility = Visibility.INTERNAL
    moskenes.save(update_fields=["visibility"])
    response = as_user(client, "redaktor.bergen").get(
        "/redaksjon/gjenbruk/moskenes/sosiale-medier/"
    )
    assert response.status_code == 404


def test_policy_page_offers_reuse_to_editors_of_other_organisations_only(client, handbook):
    url = "/moskenes/sosiale-medier/"
    assert "Bruk som utgangspunkt" in as_user(client, "redaktor.bergen").get(url).content.decode()
    own = as_user(client, "redaktor.moskenes").get(url).content.decode()
    assert "Bruk som utgangspunkt" not in own and "Rediger i redaksjonen" in own
    assert "Bruk som utgangspunkt" not in as_user(client, "ansatt.bergen").get(url).content.decode()


def test_side_by_side_shows_two_policies(client, handbook):
    bergen = bergen_policy()
    moskenes = Policy.objects.get(organisation__slug="moskenes")
    html = (
        as_user(client, "redaktor.bodo")
        .get(f"/redaksjon/side-om-side/?venstre={bergen.pk}&hoyre={moskenes.pk}")
        .content.decode()
    )
    assert "Bergen kommune: Retningslinjer for sosiale medier" in html
    assert "Moskenes kommune: Veileder for bruk av sosiale medier" in html


def test_side_by_side_does_not_show_internal_policies_of_other_organisations(client, handbook):
    moskenes = Policy.objects.get(organisation__slug="moskenes")
    moskenes.visibility = Visibility.INTERNAL
    moskenes.save(update_fields=["visibility"])
    response = as_user(client, "redaktor.bergen").get(
        f"/redaksjon/side-om-side/?venstre={bergen_policy().pk}&hoyre={moskenes.pk}"
    )
    assert "Velg en retningslinje fra listen" in response.content.decode()
    assert "Moskenes kommune: Veileder" not in response.content.decode()


def test_publishing_a_draft_of_a_retired_policy_is_refused_in_norwegian(client, draft):
    from policies.workflow import retire

    retire(bergen_policy(), by=None)
    response = as_user(client, "redaktor.bergen").post(BERGEN + "publiser/", _publish_data(draft))
    assert response.status_code == 400
    assert "trukket tilbake" in response.content.decode()
    assert PolicyVersion.objects.get(pk=draft.pk).status == Status.DRAFT


def test_compare_speaks_nynorsk_around_the_bokmal_text(client, draft):
    from .test_nynorsk_pages import assert_nynorsk

    body = draft.body.replace("effektiv kanal", "svært effektiv kanal", 1)
    save_draft(draft, by=None, title=draft.title, body=body, revision=1)
    editor = person("redaktor.bergen")
    editor.language = "nn"
    editor.save(update_fields=["language"])
    html = as_user(client, "redaktor.bergen").get(BERGEN + "utkast/sammenlign/").content.decode()
    assert '<span class="ds-sr-only" lang="nn">Lagt til: </span>svært' in html
    assert_nynorsk(html, "compare")


def test_a_retired_policy_shows_no_review_status_and_is_called_trukket_tilbake(client):
    from policies.workflow import retire

    organisation = make_organisation()
    policy = make_policy(organisation, title="Gammel retningslinje")
    retire(policy, by=None)
    client.force_login(make_person(organisation, is_editor=True))
    for url in ("/redaksjon/", f"/redaksjon/{organisation.slug}/{policy.slug}/"):
        html = client.get(url).content.decode()
        # A retired policy needs no review, and it has one name everywhere.
        assert "Revisjon i rute" not in html and "neste revisjon" not in html, url
        assert '<span class="ds-tag" data-color="neutral">Trukket tilbake</span>' in html, url
        assert "Utgått" not in html, url
