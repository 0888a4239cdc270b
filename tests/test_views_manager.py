import csv
import io
import zipfile

import pytest

from people.models import Person
from policies.models import Event, EventVerb

from .factories import make_person
from .manager_setup import make_world

pytestmark = pytest.mark.django_db


def _pages(world):
    unit = world.health.pk
    slug = world.policy.slug
    return [
        "/oversikt/",
        f"/oversikt/enhet/{unit}/",
        f"/oversikt/retningslinje/{slug}/",
        f"/oversikt/enhet/{unit}/retningslinje/{slug}/",
        f"/oversikt/enhet/{unit}/retningslinje/{slug}/eksport.csv",
        f"/oversikt/enhet/{unit}/retningslinje/{slug}/eksport.xlsx",
        f"/oversikt/enhet/{unit}/retningslinje/{slug}/utskrift/",
        f"/oversikt/enhet/{unit}/retningslinje/{slug}/paminnelse/",
    ]


def test_every_manager_page_sends_anonymous_visitors_to_log_in(client):
    world = make_world()
    for url in _pages(world):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/logg-inn/?next="), url


def test_every_manager_page_is_forbidden_for_an_employee(client):
    world = make_world()
    client.force_login(world.employee)
    for url in _pages(world):
        assert client.get(url).status_code == 403, url


def test_every_manager_page_opens_for_the_right_manager(client):
    world = make_world()
    client.force_login(world.manager)
    for url in _pages(world):
        response = client.get(url)
        assert response.status_code == 200, url
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)


def test_a_manager_of_another_unit_gets_404_for_units_outside_their_tree(client):
    world = make_world()
    client.force_login(world.school_manager)
    unit_pages = [url for url in _pages(world) if "/enhet/" in url]
    for url in unit_pages:
        assert client.get(url).status_code == 404, url


def test_a_manager_of_another_organisation_gets_404_for_its_units_and_policies(client):
    world = make_world()
    other = make_world("Annenby kommune", "annenby", policy_slug="annen-retningslinje")
    client.force_login(other.manager)
    for url in _pages(world)[1:]:
        assert client.get(url).status_code == 404, url


def test_overview_counts_only_the_managers_units(client):
    world = make_world()
    client.force_login(world.manager)
    html = client.get("/oversikt/").content.decode()
    # Helse: the manager, the nurse (confirmed) and the carer.
    assert "1 av 3 påkrevde bekreftelser" in html
    assert "Skole" not in html


def test_people_list_shows_status_and_can_show_only_those_missing(client):
    world = make_world()
    client.force_login(world.manager)
    url = f"/oversikt/enhet/{world.health.pk}/retningslinje/{world.policy.slug}/"
    html = client.get(url).content.decode()
    assert "Åse Ødegård" in html and "Bekreftet versjon 1" in html
    assert "Bjørn Berg" in html and "Ikke bekreftet" in html
    assert "Tor Lærer" not in html
    missing = client.get(url + "?mangler=1&sort=-status").content.decode()
    assert "Bjørn Berg" in missing and "Åse Ødegård" not in missing


@pytest.mark.parametrize(
    "query", ["?side=abc", "?side=-3", "?side=99999999999", "?sort=drop%20table", "?sort=-"]
)
def test_people_list_survives_odd_query_strings(client, query):
    world = make_world()
    client.force_login(world.manager)
    url = f"/oversikt/retningslinje/{world.policy.slug}/{query}"
    assert client.get(url).status_code == 200


def test_csv_export_has_bom_semicolons_norwegian_letters_and_is_audited(client):
    world = make_world()
    client.force_login(world.manager)
    url = f"/oversikt/enhet/{world.health.pk}/retningslinje/{world.policy.slug}/eksport.csv"
    response = client.get(url + "?sort=navn")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    raw = b"".join(response.streaming_content)
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][:3] == ["Ansattnummer", "Fornavn", "Etternavn"]
    by_last_name = {row[2]: row for row in rows[1:]}
    assert set(by_last_name) == {"Ødegård", "Berg", world.manager.last_name}
    assert by_last_name["Ødegård"][5] == "Bekreftet" and by_last_name["Ødegård"][6] == "1"
    assert by_last_name["Berg"][5] == "Ikke bekreftet"
    event = Event.objects.get(verb=EventVerb.EXPORTED)
    assert event.actor == world.manager and event.policy == world.policy
    assert event.detail["format"] == "csv" and event.detail["unit_id"] == world.health.pk


def test_xlsx_export_is_a_valid_workbook_and_is_audited(client):
    world = make_world()
    client.force_login(world.manager)
    url = f"/oversikt/retningslinje/{world.policy.slug}/eksport.xlsx"
    response = client.get(url)
    data = b"".join(response.streaming_content)
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert "xl/worksheets/sheet1.xml" in archive.namelist()
    strings = (
        archive.read("xl/sharedStrings.xml").decode()
        if "xl/sharedStrings.xml" in archive.namelist()
        else archive.read("xl/worksheets/sheet1.xml").decode()
    )
    assert "Ødegård" in strings
    assert Event.objects.filter(verb=EventVerb.EXPORTED, detail__format="xlsx").count() == 1


def test_the_xlsx_title_block_follows_the_managers_language(client):
    world = make_world()
    world.manager.language = "nn"
    world.manager.save(update_fields=["language"])
    client.force_login(world.manager)
    response = client.get(f"/oversikt/retningslinje/{world.policy.slug}/eksport.xlsx")
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    strings = "".join(
        archive.read(name).decode() for name in archive.namelist() if name.endswith(".xml")
    )
    assert f"Stadfestingar: {world.policy.title}" in strings
    assert "Alle einingane du har oversikt over" in strings and "Eining" in strings
    assert "Bekreftelser" not in strings and "Enhet<" not in strings


def test_print_view_lists_everyone_and_is_audited(client):
    world = make_world()
    client.force_login(world.manager)
    html = client.get(f"/oversikt/retningslinje/{world.policy.slug}/utskrift/").content.decode()
    assert "Åse Ødegård" in html and "Bjørn Berg" in html
    # The same words as the overview it is printed from.
    assert f"<title>Hvem har bekreftet: {world.policy.title}" in html
    assert "Hvem har bekreftet:" in html.split("<h1", 1)[1].split("</h1>", 1)[0]
    assert "Hvem har lest" not in html
    assert Event.objects.filter(verb=EventVerb.EXPORTED, detail__format="print").exists()


def test_whole_organisation_role_sees_every_unit(client):
    world = make_world()
    hr = make_person(world.organisation, sees_whole_organisation=True)
    client.force_login(hr)
    html = client.get("/oversikt/").content.decode()
    assert "Helse" in html and "Skole" in html
    assert client.get(f"/oversikt/enhet/{world.school.pk}/").status_code == 200


def test_demo_manager_sees_bergen_and_gets_404_for_moskenes(client, handbook):
    from policies.models import Unit

    client.force_login(Person.objects.get(username="leder.bergen"))
    html = client.get("/oversikt/").content.decode()
    assert "Byrådsavdeling for helse og omsorg" in html
    moskenes_unit = Unit.objects.filter(organisation__slug="moskenes").first()
    assert client.get(f"/oversikt/enhet/{moskenes_unit.pk}/").status_code == 404
    assert client.get("/oversikt/retningslinje/sosiale-medier/").status_code == 200
    client.force_login(Person.objects.get(username="ansatt.bergen"))
    assert client.get("/oversikt/").status_code == 403


def test_exports_never_turn_names_into_spreadsheet_formulas(client):
    world = make_world()
    make_person(world.organisation, unit=world.ward, first_name="=HYPERLINK(1)", last_name="@sum")
    client.force_login(world.manager)
    base = f"/oversikt/retningslinje/{world.policy.slug}/"
    text = b"".join(client.get(base + "eksport.csv").streaming_content).decode("utf-8-sig")
    assert ";'=HYPERLINK(1);'@sum;" in text
    data = b"".join(client.get(base + "eksport.xlsx").streaming_content)
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet


@pytest.mark.parametrize(
    "path",
    [
        "/oversikt/enhet/99999999999999999999999/",
        "/oversikt/enhet/0/",
        "/oversikt/retningslinje/finnes-ikke/",
        "/oversikt/enhet/99999999999999999999999/retningslinje/sosiale-medier/eksport.csv",
    ],
)
def test_unknown_units_and_policies_are_404_not_500(client, path):
    world = make_world()
    client.force_login(world.manager)
    assert client.get(path).status_code == 404
