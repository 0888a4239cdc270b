import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from people.models import Person, Unit
from policies.hr_import import HrImportError, import_people
from policies.models import Acknowledgement, Event, EventVerb

from .factories import make_organisation, make_policy
from .manager_setup import acknowledge

pytestmark = pytest.mark.django_db

HEADER = "ansattnummer;fornavn;etternavn;epost;enhet;leder_for;folkevalgt\n"
GOOD = (
    HEADER
    + "1001;Åse;Ødegård;ase@example.no;Helse / Sykehjem / Avdeling A;;nei\n"
    + "1002;Bjørn;Berg;bjorn@example.no;Helse / Sykehjem;Helse / Sykehjem|Helse / Sykehjem / Avdeling A;nei\n"
    + "1003;Ingrid;Bystyre;ingrid@example.no;Bystyret;;ja\n"
)


@pytest.fixture
def org():
    return make_organisation("Importvik kommune", "importvik")


def test_import_creates_units_people_and_managers(org):
    result = import_people(organisation=org, text=GOOD)
    assert (result.created, result.units_created) == (3, 4)
    ase = Person.objects.get(organisation=org, employee_number="1001")
    assert ase.get_full_name() == "Åse Ødegård" and ase.email == "ase@example.no"
    assert ase.unit.name == "Avdeling A" and ase.unit.parent.parent.name == "Helse"
    assert not ase.has_usable_password()
    bjorn = Person.objects.get(employee_number="1002")
    assert {u.name for u in bjorn.managed_units.all()} == {"Sykehjem", "Avdeling A"}
    assert Person.objects.get(employee_number="1003").is_elected_official
    event = Event.objects.get(verb=EventVerb.IMPORTED)
    assert event.organisation == org and event.detail["created"] == 3


def test_running_the_same_file_again_changes_nothing(org):
    import_people(organisation=org, text=GOOD)
    units = Unit.objects.count()
    result = import_people(organisation=org, text=GOOD)
    assert (result.created, result.updated, result.unchanged, result.deactivated) == (0, 0, 3, 0)
    assert Unit.objects.count() == units
    assert Person.objects.filter(organisation=org).count() == 3


def test_validation_reports_every_bad_row_with_line_and_field_and_imports_nothing(org):
    bad = (
        HEADER
        + "1001;Åse;Ødegård;ase@example.no;Helse;;nei\n"
        + ";Uten;Nummer;uten@example.no;Helse;;nei\n"
        + "1003;Per;Feil;ikke-en-epost;Helse;;nei\n"
        + "1004;Kari;Tom;kari@example.no;Helse //  Sykehjem;;nei\n"
        + "1005;Ola;Kanskje;ola@example.no;Helse;;kanskje\n"
        + "1001;Dobbel;Nummer;dobbel@example.no;Helse;;nei\n"
        + "1007;For;Få felt\n"
    )
    with pytest.raises(HrImportError) as excinfo:
        import_people(organisation=org, text=bad)
    problems = {(e.line, e.field) for e in excinfo.value.errors}
    assert problems == {
        (3, "ansattnummer"),
        (4, "epost"),
        (5, "enhet"),
        (6, "folkevalgt"),
        (7, "ansattnummer"),
        (8, "linje"),
    }
    assert "står også på linje 2" in str(next(e for e in excinfo.value.errors if e.line == 7))
    assert str(excinfo.value.errors[0]).startswith("Linje 3, ansattnummer:")
    # All or nothing: not even the good first row, and no units.
    assert not Person.objects.filter(organisation=org).exists()
    assert not Unit.objects.filter(organisation=org).exists()
    assert not Event.objects.filter(verb=EventVerb.IMPORTED).exists()


def test_missing_columns_are_reported_from_the_header(org):
    with pytest.raises(HrImportError) as excinfo:
        import_people(organisation=org, text="ansattnummer;fornavn\n1;Kari\n")
    assert {e.field for e in excinfo.value.errors} == {"etternavn", "epost", "enhet"}
    assert all(e.line == 1 for e in excinfo.value.errors)


def test_people_missing_from_a_new_file_are_deactivated_and_keep_their_confirmations(org):
    import_people(organisation=org, text=GOOD)
    leaver = Person.objects.get(employee_number="1002")
    policy = make_policy(org)
    acknowledge(leaver, policy.versions.get(number=1))
    result = import_people(organisation=org, text=GOOD.replace(GOOD.splitlines()[2] + "\n", ""))
    assert result.deactivated == 1
    leaver.refresh_from_db()
    assert not leaver.is_active
    assert not leaver.managed_units.exists()
    assert Acknowledgement.objects.filter(person=leaver).count() == 1
    # Coming back in a later file makes them active again.
    result = import_people(organisation=org, text=GOOD)
    assert result.reactivated == 1
    leaver.refresh_from_db()
    assert leaver.is_active


def test_a_partial_file_adds_and_updates_and_deactivates_nobody(org):
    import_people(organisation=org, text=GOOD)
    new_hire = HEADER + "1004;Nora;Nyansatt;nora@example.no;Helse / Sykehjem;;nei\n"
    result = import_people(organisation=org, text=new_hire, partial=True)
    assert (result.created, result.deactivated) == (1, 0)
    assert Person.objects.filter(organisation=org, is_active=True).count() == 4
    assert Event.objects.filter(verb=EventVerb.IMPORTED).latest("pk").detail["partial"] is True


def test_the_demo_hr_file_that_make_run_imports_is_valid(db):
    from people.models import Organisation

    bergen = Organisation.objects.create(slug="bergen", name="Bergen kommune")
    text = (Path(__file__).resolve().parent.parent / "fixtures/demo_hr/bergen.csv").read_text()
    result = import_people(organisation=bergen, text=text, partial=True)
    assert result.created == 3
    nora = Person.objects.get(organisation=bergen, employee_number="B4001")
    assert nora.get_full_name() == "Nora Nyansatt" and not nora.has_usable_password()


def test_moving_to_another_unit_restarts_the_deadline_clock(org):
    import_people(organisation=org, text=GOOD)
    moved = GOOD.replace(
        "1001;Åse;Ødegård;ase@example.no;Helse / Sykehjem / Avdeling A",
        "1001;Åse;Ødegård;ase@example.no;Skole",
    )
    result = import_people(organisation=org, text=moved)
    assert result.updated == 1
    ase = Person.objects.get(employee_number="1001")
    assert ase.unit.name == "Skole"
    assert ase.unit_since == timezone.localdate()


def test_command_dry_run_changes_nothing(org, tmp_path):
    path = tmp_path / "hr.csv"
    path.write_bytes(GOOD.encode("utf-8-sig"))
    out = io.StringIO()
    call_command("import_people", str(path), "--organisation", "importvik", "--dry-run", stdout=out)
    assert "prøvekjøring" in out.getvalue() and "3 nye" in out.getvalue()
    assert not Person.objects.filter(organisation=org).exists()


def test_command_prints_errors_and_fails(org, tmp_path):
    path = tmp_path / "hr.csv"
    path.write_text(HEADER + "1001;Åse;;ase@example.no;Helse;;nei\n", encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError, match="ingenting er importert"):
        call_command("import_people", str(path), "--organisation", "importvik", stderr=err)
    assert "Linje 2, etternavn: mangler" in err.getvalue()


def test_command_reads_windows_1252_and_the_example_file(org, tmp_path):
    path = tmp_path / "hr.csv"
    path.write_bytes(GOOD.encode("cp1252"))
    call_command("import_people", str(path), "--organisation", "importvik", stdout=io.StringIO())
    assert Person.objects.get(employee_number="1001").last_name == "Ødegård"
    example = Path(__file__).resolve().parent.parent / "fixtures" / "hr_import_example.csv"
    other = make_organisation("Eksempel kommune", "eksempel")
    call_command("import_people", str(example), "--organisation", "eksempel", stdout=io.StringIO())
    assert Person.objects.filter(organisation=other).count() == 6


def test_command_refuses_unknown_organisation_and_missing_file(org, tmp_path):
    with pytest.raises(CommandError, match="Fant ingen kommune"):
        call_command("import_people", "x.csv", "--organisation", "finnes-ikke")
    with pytest.raises(CommandError, match="Kan ikke lese"):
        call_command("import_people", str(tmp_path / "nei.csv"), "--organisation", "importvik")


def test_deactivating_leavers_takes_the_same_queries_for_one_or_many(org):
    def queries_for_leavers(slug: str, leavers: int) -> int:
        organisation = make_organisation(f"Kommune {slug}", slug)
        staying = "9000;Stein;Blir;stein@example.no;Helse;;nei\n"
        gone = "".join(
            f"{1000 + n};Per{n};Går;per{n}@example.no;Helse;Helse;nei\n" for n in range(leavers)
        )
        import_people(organisation=organisation, text=HEADER + staying + gone)
        with CaptureQueriesContext(connection) as captured:
            result = import_people(organisation=organisation, text=HEADER + staying)
        assert result.deactivated == leavers
        assert not Person.objects.filter(organisation=organisation, is_active=True).exclude(
            employee_number="9000"
        )
        assert not Unit.objects.filter(organisation=organisation, managers__isnull=False).exists()
        return len(captured)

    assert queries_for_leavers("en", 1) == queries_for_leavers("fem", 5)
