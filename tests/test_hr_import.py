import io
import threading
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from people.models import Person, Unit
from policies.hr_import import HrImportError, TooManyLeavers, import_people
from policies.models import Acknowledgement, Event, EventVerb

from .factories import make_organisation, make_policy, make_unit
from .locks import eventually, sessions_waiting_on_locks
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
    result = import_people(
        organisation=org, text=GOOD.replace(GOOD.splitlines()[2] + "\n", ""), force=True
    )
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
            result = import_people(organisation=organisation, text=HEADER + staying, force=True)
        assert result.deactivated == leavers
        assert not Person.objects.filter(organisation=organisation, is_active=True).exclude(
            employee_number="9000"
        )
        assert not Unit.objects.filter(organisation=organisation, managers__isnull=False).exists()
        return len(captured)

    assert queries_for_leavers("en", 1) == queries_for_leavers("fem", 5)


def _staff(count: int, unit: str = "Helse") -> str:
    return "".join(
        f"{2000 + n};Ansatt{n};Ansen;ansatt{n}@example.no;{unit};;nei\n" for n in range(count)
    )


def test_a_truncated_file_that_would_deactivate_too_many_is_refused_and_changes_nothing(
    org, settings
):
    settings.HR_IMPORT_MAX_DEACTIVATION_PERCENT = 10
    import_people(organisation=org, text=HEADER + _staff(20))
    events = Event.objects.count()
    truncated = HEADER + _staff(20).split("\n", 17)[-1]  # the last 3 of 20 rows: 17 would leave

    with pytest.raises(TooManyLeavers) as refused:
        import_people(organisation=org, text=truncated)

    assert "17 av 20" in str(refused.value) and "--force" in str(refused.value)
    assert Person.objects.filter(organisation=org, is_active=True).count() == 20
    assert Event.objects.count() == events


def test_a_deactivation_under_the_limit_goes_through_and_force_overrides_the_limit(org, settings):
    settings.HR_IMPORT_MAX_DEACTIVATION_PERCENT = 10
    import_people(organisation=org, text=HEADER + _staff(20))
    two_leave = HEADER + _staff(20).split("\n", 2)[-1]
    assert import_people(organisation=org, text=two_leave).deactivated == 2
    last_only = HEADER + _staff(20).splitlines(keepends=True)[-1]
    assert import_people(organisation=org, text=last_only, force=True).deactivated == 17


def test_the_command_refuses_a_truncated_file_unless_forced(org, settings, tmp_path):
    settings.HR_IMPORT_MAX_DEACTIVATION_PERCENT = 10
    import_people(organisation=org, text=HEADER + _staff(10))
    path = tmp_path / "hr.csv"
    path.write_text(HEADER + _staff(1), encoding="utf-8")
    with pytest.raises(CommandError, match="9 av 10"):
        call_command("import_people", str(path), "--organisation", "importvik")
    assert Person.objects.filter(organisation=org, is_active=True).count() == 10
    out = io.StringIO()
    call_command("import_people", str(path), "--organisation", "importvik", "--force", stdout=out)
    assert "9 deaktivert" in out.getvalue()


def test_a_reactivated_person_gets_a_fresh_start_date_for_deadlines(org):
    import datetime

    import_people(organisation=org, text=GOOD)
    long_ago = timezone.localdate() - datetime.timedelta(days=400)
    Person.objects.filter(employee_number="1003").update(unit_since=long_ago)
    import_people(organisation=org, text=GOOD.replace(GOOD.splitlines()[3] + "\n", ""), force=True)

    import_people(organisation=org, text=GOOD)

    back = Person.objects.get(employee_number="1003")
    assert back.is_active
    assert back.unit_since == timezone.localdate()


def test_a_unit_moved_in_the_hr_system_moves_with_its_people_and_policy_audiences(org):
    import_people(organisation=org, text=GOOD)
    avdeling = Unit.objects.get(organisation=org, name="Avdeling A")
    sub = make_unit(org, "Nattevakt", parent=avdeling)
    policy = make_policy(org, audience_all=False)
    policy.audience_units.set([avdeling])
    moved = GOOD.replace("Helse / Sykehjem / Avdeling A", "Omsorg / Avdeling A")

    result = import_people(organisation=org, text=moved)

    assert result.units_moved == 1
    avdeling.refresh_from_db()
    assert avdeling.parent.name == "Omsorg" and avdeling.parent.parent is None
    assert Unit.objects.filter(organisation=org, name="Avdeling A").count() == 1
    assert Person.objects.get(employee_number="1001").unit_id == avdeling.pk
    sub.refresh_from_db()
    assert sub.path == f"{avdeling.path}{sub.pk}/"
    assert set(Person.objects.in_audience_of(policy).values_list("employee_number", flat=True)) == {
        "1001"
    }


def test_a_unit_name_found_in_two_vacated_places_is_not_guessed(org):
    text = GOOD + "1004;Kari;Nord;kari@example.no;Skole / Avdeling A;;nei\n"
    import_people(organisation=org, text=text)
    both_moved = text.replace("Helse / Sykehjem / Avdeling A", "Omsorg / Avdeling A").replace(
        "Skole / Avdeling A", "Kultur / Avdeling A"
    )
    result = import_people(organisation=org, text=both_moved)
    assert result.units_moved == 0
    assert Unit.objects.filter(organisation=org, name="Avdeling A").count() == 4


# --- An import racing confirmations ------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_an_import_moving_people_never_deadlocks_with_a_confirmation(org):
    """A large import moves Anna and Bjørn out of their unit while Per, who stays, confirms.

    Before the import locked the kommune's people first, this deadlocked: the import had taken the
    tally row of Anna's confirmation (version 2) and waited for Bjørn's (version 1), which Per's
    confirmation had taken on its way to version 2's row. A third connection holds Bjørn for a
    moment so that the three meet in exactly that order every time.
    """
    from policies.acknowledgements import acknowledge as confirm
    from policies.models import ChangeKind

    from .factories import publish_version
    from .test_compliance_summary import assert_summary_is_the_truth

    stay = "1001;Anna;Berg;anna@example.no;Helse;;nei\n1002;Bjørn;Dal;bjorn@example.no;Helse;;nei\n"
    per = "1003;Per;Ås;per@example.no;Helse;;nei\n"
    import_people(organisation=org, text=HEADER + stay + per)
    anna, bjorn, per_ = (
        Person.objects.get(organisation=org, employee_number=n) for n in ("1001", "1002", "1003")
    )
    policy = make_policy(org, slug="rutine")
    v1 = policy.versions.get(number=1)
    for person in (anna, bjorn, per_):
        acknowledge(person, v1)
    v2 = publish_version(policy, body="Nye regler.", change_kind=ChangeKind.MATERIAL)
    acknowledge(anna, v2)
    moved = stay.replace(";Helse;", ";Skole;")

    outcome: dict = {}
    bjorn_held, release = threading.Event(), threading.Event()

    def holder():
        try:
            with transaction.atomic():
                Person.objects.select_for_update().get(pk=bjorn.pk)
                bjorn_held.set()
                release.wait(timeout=20)
        finally:
            connections.close_all()

    def importer():
        try:
            assert bjorn_held.wait(timeout=10)
            outcome["import"] = import_people(organisation=org, text=HEADER + moved + per)
        except Exception as exc:  # noqa: BLE001 - asserted below
            outcome["import"] = exc
        finally:
            connections.close_all()

    def confirmer():
        try:
            outcome["confirm"] = confirm(
                Person.objects.get(pk=per_.pk), v2, shown_hash=v2.text_hash
            )
        except Exception as exc:  # noqa: BLE001 - asserted below
            outcome["confirm"] = exc
        finally:
            connections.close_all()

    threads = {
        name: threading.Thread(target=f)
        for name, f in [("holder", holder), ("importer", importer), ("confirmer", confirmer)]
    }
    threads["holder"].start()
    threads["importer"].start()
    # The import is under way and waits for Bjørn.
    assert eventually(lambda: sessions_waiting_on_locks() >= 1)
    threads["confirmer"].start()
    # Per's confirmation either waits too, or has gone through.
    assert eventually(lambda: "confirm" in outcome or sessions_waiting_on_locks() >= 2)
    release.set()
    for thread in threads.values():
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads.values())

    assert not isinstance(outcome["import"], Exception), outcome["import"]
    assert not isinstance(outcome["confirm"], Exception), outcome["confirm"]
    assert set(
        Person.objects.filter(organisation=org, unit__name="Skole").values_list(
            "employee_number", flat=True
        )
    ) == {"1001", "1002"}
    assert Acknowledgement.objects.filter(person=per_, version=v2).exists()
    assert_summary_is_the_truth()
