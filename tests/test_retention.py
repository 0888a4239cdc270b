"""The data lifecycle: leavers pseudonymised after their organisation's retention, nothing else."""

from __future__ import annotations

import datetime
import io

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import DatabaseError, ProgrammingError, connection, transaction
from django.utils import timezone
from procrastinate.contrib.django import app
from procrastinate.contrib.django.models import ProcrastinateJob
from procrastinate.exceptions import AlreadyEnqueued

from operations.evidence import fingerprint
from operations.retention import apply_retention, months_before
from operations.tasks import retention
from outbox.models import Email
from people.models import Organisation, Person
from policies.models import Acknowledgement, Event, EventVerb, PolicyVersion, Reminder
from signin.models import SignInIdentity

pytestmark = pytest.mark.django_db

FIELDS = ["username", "first_name", "last_name", "email", "employee_number", "password"]


@pytest.fixture
def demo(handbook):
    call_command("seed_demo", stdout=io.StringIO())


def people_snapshot() -> dict[int, tuple]:
    return {p["id"]: tuple(p[f] for f in FIELDS) for p in Person.objects.values("id", *FIELDS)}


def test_a_retention_run_on_demo_data_pseudonymises_exactly_the_leavers_past_the_limit(demo):
    today = timezone.localdate()
    limit = months_before(today, 60)
    expected = set(
        Person.objects.filter(is_active=False, left_on__lte=limit).values_list("pk", flat=True)
    )
    # The demo has leavers on both sides of the limit, and they have confirmations.
    assert len(expected) == 3
    assert Person.objects.filter(is_active=False, left_on__gt=limit).exists()
    assert Acknowledgement.objects.filter(person_id__in=expected).exists()
    before, evidence_before = people_snapshot(), fingerprint()

    result = apply_retention(today=today)

    after = people_snapshot()
    changed = {pk for pk in before if before[pk] != after[pk]}
    assert changed == expected
    for person in Person.objects.filter(pk__in=expected):
        assert person.username == f"slettet-{person.pk}"
        assert (person.first_name, person.last_name, person.email, person.employee_number) == (
            "", "", "", ""
        )  # fmt: skip
        assert not person.has_usable_password()
        assert person.pseudonymised_at is not None
    # The evidence is untouched: same confirmations, versions and sections, plus one event each.
    evidence_after = {t.name: t for t in fingerprint()}
    for table in evidence_before:
        if table.name != "events":
            assert evidence_after[table.name] == table
    events = Event.objects.filter(verb=EventVerb.PSEUDONYMISED)
    assert sorted(pk for e in events for pk in e.detail["person_ids"]) == sorted(expected)
    assert result.people == 3

    # A second run finds nothing more to do.
    assert apply_retention(today=today).people == 0
    assert people_snapshot() == after


def test_the_limit_is_set_per_organisation(demo):
    Organisation.objects.filter(slug="moskenes").update(leaver_retention_months=120)
    result = apply_retention()
    assert "moskenes" not in result.pseudonymised
    assert set(result.pseudonymised) == {"bergen", "bodo"}


def test_dry_run_changes_nothing(demo):
    before = people_snapshot()
    result = apply_retention(dry_run=True)
    assert result.people == 3
    assert people_snapshot() == before
    assert not Event.objects.filter(verb=EventVerb.PSEUDONYMISED).exists()


def test_confirmations_stay_append_only_after_retention(demo):
    apply_retention()
    for sql in (
        "UPDATE policies_acknowledgement SET text_hash = text_hash",
        "DELETE FROM policies_acknowledgement",
    ):
        refused = pytest.raises(ProgrammingError, match="Cannot update or delete")
        with refused, transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)


def test_reminders_of_pseudonymised_people_go_and_others_stay(demo):
    leaver = Person.objects.filter(is_active=False).order_by("left_on").first()
    stayer = Person.objects.filter(is_active=True, organisation=leaver.organisation).first()
    policy = Acknowledgement.objects.filter(person=leaver).first().version.policy
    Reminder.objects.create(person=leaver, policy=policy)
    Reminder.objects.create(person=stayer, policy=policy)
    apply_retention()
    assert list(Reminder.objects.values_list("person_id", flat=True)) == [stayer.pk]


def test_someone_deactivated_by_hand_starts_the_clock_today(handbook):
    person = Person.objects.get(username="ansatt.bergen")
    Person.objects.filter(pk=person.pk).update(is_active=False)
    apply_retention()
    person.refresh_from_db()
    assert person.left_on == timezone.localdate()
    assert person.pseudonymised_at is None


def test_months_before_lands_on_the_last_day_of_a_shorter_month():
    assert months_before(datetime.date(2026, 3, 31), 1) == datetime.date(2026, 2, 28)
    assert months_before(datetime.date(2026, 11, 26), 60) == datetime.date(2021, 11, 26)


def test_the_command_reports_who_was_pseudonymised(demo):
    out = io.StringIO()
    call_command("apply_retention", "--dry-run", stdout=out)
    assert "3 person(er) totalt" in out.getvalue()


def events_by_id() -> dict[int, tuple]:
    return {e["id"]: tuple(e.values()) for e in Event.objects.order_by("pk").values()}


def test_the_nightly_job_on_the_queue_pseudonymises_exactly_the_leavers_past_the_limit(demo):
    # Registered with procrastinate's scheduler: the worker defers it once a night.
    periodic = {p.periodic_id: p for p in app.periodic_registry.periodic_tasks.values()}
    assert periodic["apply_retention"].task is retention
    assert periodic["apply_retention"].cron == settings.JOBS_RETENTION_CRON
    # As the scheduler defers it: one job, and a second machine's copy is refused while it waits.
    retention.defer(timestamp=0)
    with pytest.raises(AlreadyEnqueued), transaction.atomic():
        retention.defer(timestamp=1)
    job = ProcrastinateJob.objects.get(task_name="operations.apply_retention")

    limit = months_before(timezone.localdate(), 60)
    past = Person.objects.filter(is_active=False, left_on__lte=limit)
    expected = set(past.values_list("pk", flat=True))
    assert len(expected) == 3 and Person.objects.filter(is_active=False, left_on__gt=limit).exists()
    people_before, events_before = people_snapshot(), events_by_id()
    acknowledgements_before = set(
        Acknowledgement.objects.values_list("pk", "person_id", "version_id")
    )

    assert retention(**job.args) == {
        org: sorted(past.filter(organisation__slug=org).values_list("pk", flat=True))
        for org in ("bergen", "bodo", "moskenes")
    }

    people_after = people_snapshot()
    assert {pk for pk in people_before if people_before[pk] != people_after[pk]} == expected
    # Every confirmation and every earlier event is there, unchanged, still naming the same ids;
    # the only new events are the three kommuner's `pseudonymised` records.
    assert set(Acknowledgement.objects.values_list("pk", "person_id", "version_id")) == (
        acknowledgements_before
    )
    events_after = events_by_id()
    assert {pk: events_after[pk] for pk in events_before} == events_before
    new = Event.objects.exclude(pk__in=events_before)
    assert sorted(new.values_list("verb", flat=True)) == [EventVerb.PSEUDONYMISED] * 3
    assert sorted(pk for e in new for pk in e.detail["person_ids"]) == sorted(expected)
    # The append-only and immutability triggers refuse, as before the run.
    version = PolicyVersion.objects.filter(status="published").first()
    for sql, params in (
        ("UPDATE policies_acknowledgement SET person_id = person_id", []),
        ("DELETE FROM policies_acknowledgement", []),
        ("UPDATE policies_event SET detail = '{}'", []),
        ("DELETE FROM policies_event", []),
        ("UPDATE policies_policyversion SET body = 'x' WHERE id = %s", [version.pk]),
    ):
        refused = pytest.raises(DatabaseError, match="cannot be changed|Cannot update or delete")
        with refused, transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    # The next night finds nothing to do.
    assert retention(timestamp=0) == {}
    assert people_snapshot() == people_after


def test_pseudonymisation_removes_their_e_mails_and_sign_in_link_and_nobody_elses(demo):
    leaver = Person.objects.filter(is_active=False).order_by("left_on").first()
    stayer = Person.objects.filter(is_active=True, organisation=leaver.organisation).first()
    assert leaver.email and stayer.email and leaver.email.lower() != stayer.email.lower()
    policy = Acknowledgement.objects.filter(person=leaver).first().version.policy
    for person in (leaver, stayer):
        reminder = Reminder.objects.create(person=person, policy=policy)
        reminder.email = Email.objects.create(
            kind="reminder", to=person.email, subject="Påminnelse", body=f"Hei {person.first_name}"
        )
        reminder.save(update_fields=["email"])
        Email.objects.create(kind="notice", to=person.email.upper(), subject="Ny", body="Hei")
        SignInIdentity.objects.create(
            person=person, organisation=person.organisation, subject=f"oid-{person.pk}"
        )
    apply_retention()
    assert set(Email.objects.values_list("to", flat=True)) == {stayer.email, stayer.email.upper()}
    assert list(SignInIdentity.objects.values_list("person_id", flat=True)) == [stayer.pk]
