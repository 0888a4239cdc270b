"""The data lifecycle: leavers pseudonymised after their organisation's retention, nothing else."""

from __future__ import annotations

import datetime
import io

import pytest
from axes.models import AccessFailureLog
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db import ProgrammingError, connection, transaction
from django.utils import timezone

from operations.evidence import fingerprint
from operations.retention import apply_retention, months_before
from people.models import Organisation, Person
from policies.models import Acknowledgement, Event, EventVerb, Reminder

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


def test_expired_sessions_and_old_sign_in_logs_are_cleared(db, settings):
    now = timezone.now()
    Session.objects.create(
        session_key="old", session_data="", expire_date=now - datetime.timedelta(days=1)
    )
    Session.objects.create(
        session_key="new", session_data="", expire_date=now + datetime.timedelta(days=1)
    )
    attempt = {"username": "x", "ip_address": "10.0.0.1", "user_agent": "t"}
    AccessFailureLog.objects.create(**attempt)
    old = AccessFailureLog.objects.create(**attempt)
    AccessFailureLog.objects.filter(pk=old.pk).update(
        attempt_time=now - datetime.timedelta(days=91)
    )
    apply_retention()
    assert list(Session.objects.values_list("session_key", flat=True)) == ["new"]
    assert AccessFailureLog.objects.count() == 1


def test_months_before_lands_on_the_last_day_of_a_shorter_month():
    assert months_before(datetime.date(2026, 3, 31), 1) == datetime.date(2026, 2, 28)
    assert months_before(datetime.date(2026, 11, 26), 60) == datetime.date(2021, 11, 26)


def test_the_command_reports_who_was_pseudonymised(demo):
    out = io.StringIO()
    call_command("apply_retention", "--dry-run", stdout=out)
    assert "3 person(er) totalt" in out.getvalue()
