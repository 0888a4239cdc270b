"""Small validation gaps (issue 14, item 5): dates within sensible bounds, no bidi overrides or
invisible control characters in titles, names and change notes (body text keeps them), and
expected refusals (403, 404) logged as one line without a traceback."""

import datetime
import io
import logging

import pytest
from django.utils import timezone

from policies.forms_editorial import DraftForm, PolicySettingsForm, PublishForm
from policies.hr_import import parse
from policies.plaintext import clean_line, clean_text

from .factories import make_organisation, make_person, make_policy

RLO = "\u202e"
HOSTILE_INVISIBLES = [
    RLO,
    "\u202a",
    "\u2066",
    "\u2069",
    "\u200b",
    "\u200e",
    "\ufeff",
    "\x00",
    "\x1b",
]


def _publish(**changes):
    data = {
        "draft": "1",
        "revision": "1",
        "change_kind": "editorial",
        "change_note": "Rettet skrivefeil.",
        "adopted_by": "",
        "adopted_on": "",
        "effective_from": timezone.localdate().isoformat(),
    }
    data.update(changes)
    return PublishForm(data)


@pytest.mark.parametrize("adopted_on", ["2999-01-01", "01.01.2999", "1850-05-17"])
def test_adoption_dates_far_from_today_are_refused(adopted_on):
    form = _publish(adopted_on=adopted_on)
    assert not form.is_valid()
    assert "adopted_on" in form.errors


def test_adoption_after_the_version_takes_effect_is_refused():
    later = timezone.localdate() + datetime.timedelta(days=30)
    form = _publish(adopted_on=later.isoformat())
    assert not form.is_valid()
    assert "før datoen versjonen gjelder fra" in str(form.errors["adopted_on"])


def test_an_adoption_date_in_the_past_is_accepted():
    assert _publish(adopted_on="14.12.2015").is_valid()


@pytest.mark.parametrize("character", HOSTILE_INVISIBLES)
def test_titles_and_change_notes_lose_bidi_and_invisible_characters(character):
    draft = DraftForm({"title": f"Sosiale{character} medier", "body": "x", "revision": "1"})
    assert draft.is_valid(), draft.errors
    assert draft.cleaned_data["title"] == "Sosiale medier"
    publish_form = _publish(
        change_note=f"Rettet{character} skrivefeil.\nNy linje.", adopted_by=f"AMU{character}"
    )
    assert publish_form.is_valid(), publish_form.errors
    assert publish_form.cleaned_data["change_note"] == "Rettet skrivefeil.\nNy linje."
    assert publish_form.cleaned_data["adopted_by"] == "AMU"


def test_a_title_of_only_invisible_characters_counts_as_no_title():
    form = DraftForm({"title": RLO + "\u200b", "body": "x", "revision": "1"})
    assert not form.is_valid()
    assert "Skriv en tittel." in str(form.errors["title"])


def test_body_text_keeps_bidi_marks():
    body = "Arabisk eksempel: \u202bمرحبا\u202c og \u2067שלום\u2069."
    form = DraftForm({"title": "T", "body": body, "revision": "1"})
    assert form.is_valid()
    assert form.cleaned_data["body"] == body


@pytest.mark.django_db
def test_policy_settings_title_and_summary_are_cleaned():
    organisation = make_organisation()
    form = PolicySettingsForm(
        {
            "title": f"{RLO}Bruk av sosiale medier",
            "summary": "Kort\u200b beskrivelse",
            "audience": "all",
            "visibility": "public",
            "review_interval_months": "24",
            "deadline_days": "30",
        },
        organisation=organisation,
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["title"] == "Bruk av sosiale medier"
    assert form.cleaned_data["summary"] == "Kort beskrivelse"


def test_names_and_units_from_the_hr_import_are_cleaned():
    text = (
        "ansattnummer;fornavn;etternavn;epost;enhet\n"
        f"1001;Åse{RLO};\u200bØdegård;ase@example.no;Helse{RLO} / Sykehjem\n"
    )
    (row,) = parse(text)
    assert (row.first_name, row.last_name) == ("Åse", "Ødegård")
    assert row.unit == ("Helse", "Sykehjem")


def test_cleaning_keeps_norwegian_and_sami_letters():
    assert (
        clean_line(" Čáhppes Ŋáđđi og Ærlig Øyvind Åsen ") == "Čáhppes Ŋáđđi og Ærlig Øyvind Åsen"
    )
    assert clean_text("a\r\nb\tc") == "a\nb\tc"


@pytest.mark.django_db
@pytest.mark.parametrize("status", [403, 404])
def test_expected_refusals_are_logged_as_one_line(client, status):
    organisation = make_organisation()
    employee = make_person(organisation)
    make_policy(organisation)
    client.force_login(employee)
    url = "/oversikt/" if status == 403 else "/finnes-ikke/heller-ikke/"
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "console")
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        response = client.get(url)
    finally:
        handler.setStream(previous)
    assert response.status_code == status
    output = stream.getvalue()
    assert output.count("\n") == 1, output
    assert "Traceback" not in output
