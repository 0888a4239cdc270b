"""Every file a person downloads, in nynorsk for one who reads nynorsk: the managers' CSV and XLSX
person lists (headers, status words, title block, file name) and a person's own confirmations.

The machine keys of "mine data" (JSON) stay as they are: they are keys, not words."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from django.utils import translation

from people.models import Person
from policies.exports import HEADERS

from .factories import make_person
from .manager_setup import acknowledge, make_world

pytestmark = pytest.mark.django_db

NYNORSK_HEADERS = [
    "Tilsettnummer",
    "Førenamn",
    "Etternamn",
    "E-post",
    "Eining",
    "Status",
    "Stadfesta versjon",
    "Stadfesta dato",
    "Frist",
    "Over fristen",
]


def _nynorsk(person: Person) -> Person:
    person.language = "nn"
    person.save(update_fields=["language"])
    return person


def test_the_csv_person_list_speaks_nynorsk_to_a_manager_who_reads_it(client):
    world = make_world()
    client.force_login(_nynorsk(world.manager))
    response = client.get(f"/oversikt/retningslinje/{world.policy.slug}/eksport.csv")
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    assert (
        'filename="stadfestingar-sosiale-medier-testvik-kommune-'
        in (response["Content-Disposition"])
    )
    # The file streams after the view has returned, whatever language is active by then.
    with translation.override("nb"):
        text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0] == NYNORSK_HEADERS
    assert len(NYNORSK_HEADERS) == len(HEADERS)
    by_name = {row[1]: row for row in rows[1:]}
    # Åse confirmed; Bjørn never did.
    assert by_name["Åse"][5] == "Stadfesta"
    assert by_name["Bjørn"][5] == "Ikkje stadfesta"
    assert {row[9] for row in rows[1:]} <= {"ja", "nei"}
    for word in ("Ansattnummer", "Fornavn", "Enhet", "Bekreftet", "Ikke bekreftet", "Forfalt"):
        assert word not in text


def test_the_csv_person_list_stays_bokmal_for_a_manager_who_reads_bokmal(client):
    world = make_world()
    client.force_login(world.manager)
    response = client.get(f"/oversikt/retningslinje/{world.policy.slug}/eksport.csv")
    with translation.override("nn"):
        text = b"".join(response.streaming_content).decode("utf-8-sig")
    header = next(csv.reader(io.StringIO(text), delimiter=";"))
    assert header == [str(h) for h in HEADERS]
    assert header[0] == "Ansattnummer"
    assert "Ikke bekreftet" in text
    assert 'filename="bekreftelser-' in response["Content-Disposition"]


def test_the_workbook_speaks_nynorsk_to_a_manager_who_reads_it(client):
    world = make_world()
    client.force_login(_nynorsk(world.manager))
    response = client.get(f"/oversikt/retningslinje/{world.policy.slug}/eksport.xlsx")
    assert (
        'filename="stadfestingar-sosiale-medier-testvik-kommune-'
        in (response["Content-Disposition"])
    )
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    # constant_memory writes strings inline in the sheet.
    strings = archive.read("xl/worksheets/sheet1.xml").decode()
    workbook = archive.read("xl/workbook.xml").decode()
    assert 'name="Stadfestingar"' in workbook
    for said in (
        "Stadfestingar: Bruk av sosiale medier",
        "Retningsline",
        "Alle einingane du har oversikt over",
        "Eksportert av",
        *NYNORSK_HEADERS,
        "Ikkje stadfesta",
    ):
        assert f">{said}<" in strings, said
    for word in (
        "Bekreftelser",
        "Retningslinje",
        "Alle enhetene",
        "Ansattnummer",
        "Ikke bekreftet",
    ):
        assert word not in strings + workbook, word


def test_a_person_who_reads_nynorsk_downloads_their_confirmations_in_nynorsk(client):
    world = make_world()
    reader = _nynorsk(make_person(world.organisation, unit=world.school))
    acknowledge(reader, world.policy.versions.get(number=1))
    client.force_login(reader)
    response = client.get("/meg/mine-bekreftelser.csv")
    assert 'filename="mine-stadfestingar.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == [
        "Kommune",
        "Retningsline",
        "Versjon",
        "Stadfesta",
        "Målform",
        "Kvittering",
        "Adresse",
    ]
    assert rows[1][:3] == ["Testvik kommune", "Bruk av sosiale medier", "1"]
