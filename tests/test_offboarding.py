"""Offboarding a kommune: a readable, checkable archive, then removal in one audited operation."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile

import pytest
from django.core.management import CommandError, call_command
from django.db import ProgrammingError, connection, transaction

from operations import offboarding
from operations.offboarding import export_organisation, offboard
from people.models import Organisation, Person, Unit
from policies.models import Acknowledgement, Event, EventVerb, Policy, PolicyVersion

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(handbook):
    call_command("seed_demo", stdout=io.StringIO())


def unpack(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        root = archive.namelist()[0].split("/")[0]
        return {n.removeprefix(root + "/"): archive.read(n) for n in archive.namelist()}


def read_csv(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def test_an_export_of_a_demo_kommune_opens_as_files_a_person_can_read(demo, tmp_path):
    moskenes = Organisation.objects.get(slug="moskenes")
    archive = export_organisation(moskenes, to=tmp_path)
    files = unpack(archive.path)

    # Every file is listed in SHA256SUMS with its true checksum (what `sha256sum -c` checks).
    sums = dict(reversed(line.split("  ", 1)) for line in files["SHA256SUMS"].decode().splitlines())
    assert set(sums) == set(files) - {"SHA256SUMS"}
    for name, digest in sums.items():
        assert hashlib.sha256(files[name]).hexdigest() == digest, name
    manifest = json.loads(files["manifest.json"])
    acks = Acknowledgement.objects.filter(version__policy__organisation=moskenes)
    assert manifest["antall"]["bekreftelser"] == acks.count() > 0

    confirmations = read_csv(files["bekreftelser.csv"])
    assert len(confirmations) == acks.count()
    first = acks.order_by("pk").select_related("person", "version__policy").first()
    assert confirmations[0]["navn"] == first.person.get_full_name()
    assert confirmations[0]["retningslinje"] == first.version.policy.slug
    people = read_csv(files["personer.csv"])
    assert len(people) == Person.objects.filter(organisation=moskenes).count()

    for version in PolicyVersion.objects.filter(policy__organisation=moskenes).exclude(
        status="draft"
    ):
        stem = f"retningslinjer/{version.policy.slug}/versjon-{version.number}"
        assert version.body in files[f"{stem}.md"].decode()
        page = files[f"{stem}.html"].decode()
        assert page.startswith("<!doctype html>") and '<html lang="nb">' in page
        assert version.body_html in page
        assert f'href="{stem}.html"' in files["innhold.html"].decode()
    assert "sha256sum -c SHA256SUMS" in files["LESMEG.txt"].decode()
    # Exporting alone changes nothing.
    assert Organisation.objects.filter(slug="moskenes").exists()


def test_offboarding_removes_exactly_one_kommune_and_records_it(demo, tmp_path):
    bodo = Organisation.objects.get(slug="bodo")
    others = Acknowledgement.objects.exclude(version__policy__organisation=bodo).count()
    other_people = Person.objects.exclude(organisation=bodo).count()
    archive = offboard(bodo, to=tmp_path)

    assert not Organisation.objects.filter(slug="bodo").exists()
    assert not Person.objects.filter(organisation__slug="bodo").exists()
    assert not Policy.objects.filter(organisation__slug="bodo").exists()
    assert not Unit.objects.filter(organisation__slug="bodo").exists()
    assert Acknowledgement.objects.count() == others
    assert Person.objects.count() == other_people
    event = Event.objects.get(verb=EventVerb.OFFBOARDED)
    assert event.detail["organisation"] == "bodo"
    assert event.detail["archive_sha256"] == hashlib.sha256(archive.path.read_bytes()).hexdigest()
    assert event.detail["deleted"]["bekreftelser"] == archive.counts["bekreftelser"]

    # The triggers are back in force for everyone, on this very connection too.
    for sql in (
        "UPDATE policies_acknowledgement SET text_hash = text_hash",
        "DELETE FROM policies_event",
    ):
        refused = pytest.raises(ProgrammingError, match="Cannot update or delete")
        with refused, transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)


def test_a_failure_during_removal_changes_nothing(demo, tmp_path, monkeypatch):
    bodo = Organisation.objects.get(slug="bodo")
    before = Acknowledgement.objects.count()

    def remove_too_little(organisation):
        deleted = real_remove(organisation)
        return {**deleted, "bekreftelser": deleted["bekreftelser"] - 1}

    real_remove = offboarding._remove
    monkeypatch.setattr(offboarding, "_remove", remove_too_little)
    with pytest.raises(offboarding.OffboardingError):
        offboard(bodo, to=tmp_path)
    assert Organisation.objects.filter(slug="bodo").exists()
    assert Acknowledgement.objects.count() == before
    assert not Event.objects.filter(verb=EventVerb.OFFBOARDED).exists()


def test_removal_needs_the_kommune_named_twice(demo, tmp_path):
    with pytest.raises(CommandError, match="--confirm bodo"):
        call_command("offboard_organisation", "bodo", "--to", str(tmp_path), "--remove")
    assert Organisation.objects.filter(slug="bodo").exists()
    out = io.StringIO()
    call_command(
        "offboard_organisation", "bodo", "--to", str(tmp_path), "--remove", "--confirm", "bodo",
        stdout=out,
    )  # fmt: skip
    assert "fjernet" in out.getvalue()
    assert not Organisation.objects.filter(slug="bodo").exists()
