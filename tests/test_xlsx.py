"""The XLSX person list: a title block, real date cells, a frozen header, a filter, a unit's name."""

import io
import re
import zipfile

import pytest

from .manager_setup import make_world

pytestmark = pytest.mark.django_db


def _download(client, world, unit=None):
    client.force_login(world.manager)
    base = f"/oversikt/enhet/{unit.pk}" if unit else "/oversikt"
    response = client.get(f"{base}/retningslinje/{world.policy.slug}/eksport.xlsx")
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    names = archive.namelist()
    strings = (
        archive.read("xl/sharedStrings.xml").decode() if "xl/sharedStrings.xml" in names else ""
    )
    return response, sheet, strings


def test_the_workbook_opens_with_a_title_block(client):
    world = make_world()
    _, sheet, strings = _download(client, world, world.health)
    text = strings + sheet
    for value in ("Testvik kommune", "Bruk av sosiale medier", "Helse", "Eksportert av", "Lise"):
        assert value in text
    assert re.search(r"\d\d\.\d\d\.\d{4} kl\. \d\d\.\d\d", text)


def test_the_header_row_is_frozen_and_filterable(client):
    world = make_world()
    _, sheet, _ = _download(client, world)
    # Title block (rows 1-7), a blank row, then the header in row 9.
    assert re.search(r'<pane ySplit="9" topLeftCell="A10"', sheet)
    assert re.search(r'<autoFilter ref="A9:J\d+"/>', sheet)


def test_deadlines_are_real_date_cells(client):
    world = make_world()
    _, sheet, _ = _download(client, world)
    deadlines = re.findall(r'<c r="I1\d" s="(\d+)"( t="\w+")?><v>([^<]+)</v>', sheet)
    assert deadlines, sheet[:2000]
    for _style, kind, value in deadlines:
        assert kind == ""  # a number (an Excel date), not a string
        assert 40000 < float(value) < 60000


def test_the_file_is_named_after_the_unit(client):
    world = make_world()
    response, _, _ = _download(client, world, world.health)
    assert "bekreftelser-sosiale-medier-helse-" in response["Content-Disposition"]
    response, _, _ = _download(client, world)
    assert "bekreftelser-sosiale-medier-testvik-kommune-" in response["Content-Disposition"]
