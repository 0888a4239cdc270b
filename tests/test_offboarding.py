"""Offboarding a kommune: a readable, checkable archive, then removal in one audited operation."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zipfile

import pytest
from django.core.management import CommandError, call_command
from django.db import ProgrammingError, connection, transaction

from operations import offboarding
from operations.offboarding import export_organisation, offboard
from outbox.models import Email
from people.models import Organisation, Person, Unit
from policies.models import (
    Acknowledgement,
    Event,
    EventVerb,
    Policy,
    PolicyVersion,
    Reminder,
    ReminderRun,
    Translation,
)
from signin.models import Outcome, SignInEvent, SignInIdentity

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


def test_every_file_of_the_archive_is_one_a_person_can_open(demo, tmp_path):
    """Spreadsheets Excel opens with æøå right, pages a browser shows, a Norwegian guide to it all."""
    moskenes = Organisation.objects.get(slug="moskenes")
    Person.objects.filter(organisation=moskenes, is_active=True).update(first_name="Åsmund")
    archive = export_organisation(moskenes, to=tmp_path)
    files = unpack(archive.path)
    assert archive.path.stat().st_mode & 0o077 == 0, "the archive is readable by others"

    manifest = json.loads(files["manifest.json"])
    readme = files["LESMEG.txt"].decode()
    contents = files["innhold.html"].decode()
    spreadsheets = sorted(name for name in files if name.endswith(".csv"))
    assert len(spreadsheets) == 9
    for name in spreadsheets:
        data = files[name]
        # UTF-8 with a byte-order mark (what tells Excel the encoding), a header row, semicolons.
        assert data.startswith(b"\xef\xbb\xbf"), name
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
        header = rows[0]
        assert header[0] == "id" and all(re.fullmatch(r"[a-z_0-9]+", c) for c in header), name
        assert all(len(row) == len(header) for row in rows), name
        assert len(rows) - 1 == manifest["antall"][name.removesuffix(".csv")], name
        # Each spreadsheet is explained in the guide and linked from the contents page.
        assert name in readme and f'href="{name}"' in contents, name
    assert "Åsmund" in files["personer.csv"].decode("utf-8")
    assert "UTF-8 med BOM" in readme and "semikolon" in readme and "Europe/Oslo" in readme
    # Every link of the contents page leads to a file in the archive.
    for href in re.findall(r'href="([^"]+)"', contents):
        assert href in files, href
    for name in (n for n in files if n.endswith(".html")):
        page = files[name].decode()
        assert page.startswith("<!doctype html>") and '<meta charset="utf-8">' in page, name


def test_a_cell_that_would_be_a_formula_in_excel_is_exported_as_text(demo, tmp_path):
    moskenes = Organisation.objects.get(slug="moskenes")
    person = Person.objects.filter(organisation=moskenes).order_by("pk").first()
    Person.objects.filter(pk=person.pk).update(
        first_name='=HYPERLINK("http://example.invalid","Klikk")', last_name="@SUM(1+1)"
    )
    people = read_csv(unpack(export_organisation(moskenes, to=tmp_path).path)["personer.csv"])
    row = next(r for r in people if r["id"] == str(person.pk))
    assert row["fornavn"] == """'=HYPERLINK("http://example.invalid","Klikk")"""
    assert row["etternavn"] == "'@SUM(1+1)"


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


def test_a_kommune_whose_people_signed_in_and_got_e_mail_is_removed_with_all_of_it(demo, tmp_path):
    """Every real kommune has these: sign-ins through its provider, and e-mails in the outbox."""
    bodo = Organisation.objects.get(slug="bodo")
    leaving = Person.objects.filter(organisation=bodo, is_active=True).exclude(email="").first()
    staying = Person.objects.exclude(organisation=bodo).exclude(email="").first()
    policy = Acknowledgement.objects.filter(person__organisation=bodo).first().version.policy
    for person in (leaving, staying):
        SignInIdentity.objects.create(
            person=person, organisation=person.organisation, subject=f"oid-{person.pk}"
        )
        for outcome in (Outcome.LINKED, Outcome.SIGNED_IN):
            SignInEvent.objects.create(
                organisation=person.organisation, person=person, outcome=outcome,
                subject=f"oid-{person.pk}", ip_address="192.0.2.10",
            )  # fmt: skip
        Email.objects.create(kind="notice", to=person.email, subject="Ny versjon", body="Hei")
    # A refused sign-in names no person, only the kommune.
    SignInEvent.objects.create(organisation=bodo, outcome=Outcome.UNKNOWN, subject="ukjent")
    reminder = Reminder.objects.create(person=leaving, policy=policy)
    reminder.email = Email.objects.create(
        kind="reminder", to=leaving.email, subject="P", body="Hei"
    )
    reminder.save(update_fields=["email"])
    # A manager's reminder the worker has not expanded yet.
    ReminderRun.objects.create(
        policy=policy, sent_by=leaving, organisation_id_of_scope=bodo.pk, planned=1
    )

    archive = offboard(bodo, to=tmp_path)

    sign_ins = read_csv(unpack(archive.path)["palogginger.csv"])
    assert len(sign_ins) == 3 and archive.counts["palogginger"] == 3
    assert not SignInEvent.objects.filter(organisation__isnull=True).exists()
    assert list(SignInEvent.objects.values_list("person_id", flat=True)) == [staying.pk] * 2
    assert list(SignInIdentity.objects.values_list("person_id", flat=True)) == [staying.pk]
    assert list(Email.objects.values_list("to", flat=True)) == [staying.email]
    assert Event.objects.get(verb=EventVerb.OFFBOARDED).detail["deleted"]["epost"] == 2
    assert not ReminderRun.objects.exists()
    # The sign-in trail is append-only again afterwards.
    with (
        pytest.raises(ProgrammingError, match="Cannot delete"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM signin_signinevent")


def test_a_kommune_with_translations_gets_them_in_the_archive_and_is_removed(demo, tmp_path):
    # seed_demo gives Moskenes its nynorsk demo version.
    kommune = Organisation.objects.get(slug="moskenes")
    translations = Translation.objects.filter(
        version__policy__organisation=kommune, status="published"
    )
    assert translations.exists(), "the demo has Moskenes' nynorsk version"
    expected = {
        f"retningslinjer/{t.version.policy.slug}/versjon-{t.version.number}.{t.language}": t
        for t in translations.select_related("version__policy")
    }
    others = Translation.objects.exclude(version__policy__organisation=kommune).count()

    archive = offboard(kommune, to=tmp_path)

    files = unpack(archive.path)
    for stem, translation in expected.items():
        assert translation.body in files[f"{stem}.md"].decode()
        page = files[f"{stem}.html"].decode()
        assert f'<html lang="{translation.language}">' in page and translation.body_html in page
        assert f'href="{stem}.html"' in files["innhold.html"].decode()
    assert archive.counts["oversettelser"] == len(expected)
    confirmations = read_csv(files["bekreftelser.csv"])
    assert {row["malform"] for row in confirmations} >= {"nb"}
    assert not Organisation.objects.filter(slug="moskenes").exists()
    assert Translation.objects.count() == others


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


@pytest.mark.django_db(transaction=True)
def test_while_one_kommune_is_removed_every_other_connection_is_still_refused(
    tmp_path, monkeypatch
):
    """The triggers are lifted with SET LOCAL semantics: inside the removal's own transaction only.

    While the removal is half done (its rows deleted, the transaction open), a second connection
    tries to delete another kommune's confirmation and event: the triggers refuse it.
    """
    import psycopg
    from django.db import connection as django_connection

    from tests.factories import make_organisation, make_person, make_policy

    leaving, staying = make_organisation(), make_organisation()
    for organisation in (leaving, staying):
        person = make_person(organisation)
        version = make_policy(organisation).versions.get(status="published")
        Acknowledgement.objects.create(person=person, version=version, text_hash=version.text_hash)
    kept_ack = Acknowledgement.objects.get(person__organisation=staying)
    kept_event = Event.objects.filter(organisation=staying).first()
    settings = django_connection.settings_dict
    other_url = (
        f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"
    )
    refusals = []
    real_remove = offboarding._remove

    def remove_and_try_from_elsewhere(organisation):
        deleted = real_remove(organisation)
        with psycopg.connect(other_url, autocommit=True) as other:
            for sql, pk in (
                ("DELETE FROM policies_acknowledgement WHERE id = %s", kept_ack.pk),
                ("DELETE FROM policies_event WHERE id = %s", kept_event.pk),
            ):
                try:
                    other.execute(sql, [pk])
                except psycopg.Error as exc:
                    refusals.append(str(exc))
        return deleted

    monkeypatch.setattr(offboarding, "_remove", remove_and_try_from_elsewhere)
    offboard(leaving, to=tmp_path)

    assert len(refusals) == 2 and all("Cannot update or delete" in r for r in refusals), refusals
    assert Acknowledgement.objects.filter(pk=kept_ack.pk).exists()
    assert Event.objects.filter(pk=kept_event.pk).exists()
    assert not Organisation.objects.filter(pk=leaving.pk).exists()


def test_the_archive_speaks_the_kommunes_malform(demo, tmp_path):
    """What a person reads in the archive (LESMEG.txt, innhold.html, the facts above each version)
    is in the kommune's målform; the spreadsheets' column names are keys and stay as they are."""
    from django.utils import translation

    moskenes = Organisation.objects.get(slug="moskenes")
    assert moskenes.language == "nn"
    with translation.override("nb"):
        files = unpack(export_organisation(moskenes, to=tmp_path / "nn").path)
        assert translation.get_language() == "nb"
    readme = files["LESMEG.txt"].decode()
    assert readme.startswith("Eksport av Moskenes kommune frå Håndboka (")
    for said in ("Opne innhold.html i ein nettlesar", "Reknearka", "kven som stadfesta", "ikkje"):
        assert said in readme, said
    for word in ("Åpne", "Regnearkene", "bekreftet", "ikke", "hvem"):
        assert not re.search(rf"\b{word}\b", readme), word
    contents = files["innhold.html"].decode()
    assert '<html lang="nn">' in contents
    assert "stadfestingane og hendingsloggen" in contents and "rader)" in contents
    page = files["retningslinjer/sosiale-medier/versjon-1.html"].decode()
    # The text keeps its own language; the facts above it are in the kommune's.
    assert '<html lang="nb">' in page and '<p lang="nn"><small>Kommune: Moskenes' in page
    assert "Retningsline: sosiale-medier" in page and "Vedteken av:" in page
    header = files["personer.csv"].decode("utf-8-sig").splitlines()[0]
    assert header.startswith("id;brukernavn;fornavn;etternavn")

    bodo = Organisation.objects.get(slug="bodo")
    assert bodo.language != "nn"
    with translation.override("nn"):
        readme = unpack(export_organisation(bodo, to=tmp_path / "nb").path)["LESMEG.txt"]
    assert readme.decode().startswith("Eksport av Bodø kommune fra Håndboka (")
    assert "Åpne innhold.html i en nettleser" in readme.decode()
