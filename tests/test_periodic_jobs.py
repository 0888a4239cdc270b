"""The periodic jobs: what each one does, and that running one twice (two machines) changes nothing
twice."""

import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import DatabaseError, transaction
from django.utils import timezone
from procrastinate.contrib.django.models import ProcrastinateJob

from outbox.models import Email
from policies.models import DigestDelivery
from policies.tasks import clean_up, digest_organisation, weekly_digest
from signin.models import Outcome, SignInEvent

from .manager_setup import make_world

pytestmark = pytest.mark.django_db


def test_the_weekly_digest_fans_out_one_job_per_kommune_once():
    world = make_world()
    other = make_world("Annenvik kommune", "annenvik", "sosiale-medier")
    weekly_digest(timestamp=0)
    # A second machine deferring the same week at the same moment adds nothing (queueing lock).
    weekly_digest(timestamp=0)
    jobs = ProcrastinateJob.objects.filter(task_name="policies.digest_organisation")
    assert sorted(job.args["organisation_id"] for job in jobs) == sorted(
        [world.organisation.pk, other.organisation.pk]
    )


def test_a_kommunes_digest_run_twice_queues_each_email_once():
    world = make_world()
    today = timezone.localdate().isoformat()
    digest_organisation(organisation_id=world.organisation.pk, day=today)
    queued = Email.objects.count()
    digest_organisation(organisation_id=world.organisation.pk, day=today)
    assert queued > 0 and Email.objects.count() == queued
    assert DigestDelivery.objects.filter(email__isnull=False).count() == queued


def test_clean_up_deletes_expired_sessions_and_cooled_off_lockouts_only():
    expired = SessionStore()
    expired.create()
    Session.objects.filter(pk=expired.session_key).update(
        expire_date=timezone.now() - datetime.timedelta(minutes=1)
    )
    live = SessionStore()
    live.create()
    old = AccessAttempt.objects.create(
        username="ola", ip_address="10.0.0.1", failures_since_start=5
    )
    AccessAttempt.objects.filter(pk=old.pk).update(
        attempt_time=timezone.now() - datetime.timedelta(hours=1)
    )
    AccessAttempt.objects.create(username="kari", ip_address="10.0.0.2", failures_since_start=5)
    result = clean_up(timestamp=0)
    assert result["sessions"] == 1 and result["lockouts"] == 1
    assert list(Session.objects.values_list("pk", flat=True)) == [live.session_key]
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == ["kari"]


def test_clean_up_deletes_sign_in_records_older_than_login_log_days_only(settings):
    settings.LOGIN_LOG_DAYS = 90
    attempt = {"username": "ola", "ip_address": "10.0.0.1", "user_agent": "t"}
    for model in (AccessFailureLog, AccessLog):
        old, recent = model.objects.create(**attempt), model.objects.create(**attempt)
        model.objects.filter(pk=old.pk).update(
            attempt_time=timezone.now() - datetime.timedelta(days=91)
        )
        model.objects.filter(pk=recent.pk).update(
            attempt_time=timezone.now() - datetime.timedelta(days=89)
        )
    result = clean_up(timestamp=0)
    assert result["login_log"] == 1 and result["failure_log"] == 1
    assert AccessFailureLog.objects.count() == 1 and AccessLog.objects.count() == 1


def test_clean_up_forgets_address_and_subject_in_the_sign_in_trail_after_login_log_days(settings):
    settings.LOGIN_LOG_DAYS = 90
    world = make_world()
    trail = {
        "organisation": world.organisation,
        "person": world.carer,
        "outcome": Outcome.SIGNED_IN,
        "subject": "tid/oid",
        "ip_address": "10.0.0.1",
        "detail": {"roles": ["leder"]},
    }
    old = SignInEvent.objects.create(
        **trail, created_at=timezone.now() - datetime.timedelta(days=91)
    )
    recent = SignInEvent.objects.create(
        **trail, created_at=timezone.now() - datetime.timedelta(days=89)
    )
    assert clean_up(timestamp=0)["signin_trail"] == 1
    assert clean_up(timestamp=0)["signin_trail"] == 0
    old.refresh_from_db()
    recent.refresh_from_db()
    assert (old.ip_address, old.subject, old.detail) == (None, "", {})
    # Who signed in, when and how stays; the recent record is untouched.
    assert (old.person, old.outcome, old.organisation) == (
        world.carer,
        Outcome.SIGNED_IN,
        world.organisation,
    )
    assert (recent.ip_address, recent.subject) == ("10.0.0.1", "tid/oid")


@pytest.mark.parametrize(
    "change",
    [{"outcome": Outcome.UNKNOWN}, {"ip_address": "10.0.0.2"}, {"person": None}],
    ids=["outcome", "address", "person"],
)
def test_the_sign_in_trail_refuses_every_change_but_forgetting(change):
    world = make_world()
    event = SignInEvent.objects.create(
        organisation=world.organisation,
        person=world.carer,
        outcome=Outcome.SIGNED_IN,
        ip_address="10.0.0.1",
    )
    forgotten = {"ip_address": None, "subject": "", "detail": {}}
    with pytest.raises(DatabaseError, match="pgtrigger: Cannot"), transaction.atomic():
        SignInEvent.objects.filter(pk=event.pk).update(**{**forgotten, **change})
    with pytest.raises(DatabaseError, match="pgtrigger: Cannot"), transaction.atomic():
        SignInEvent.objects.filter(pk=event.pk).delete()


@pytest.mark.django_db(databases=[])
def test_the_periodic_jobs_cron_times_are_utc_as_the_docs_say():
    """procrastinate reads a periodic job's cron in UTC, whatever TIME_ZONE says: README's
    "Environment variables" and docs/deployment.md give the times in UTC because of this. If
    procrastinate ever takes a time zone, this fails and those texts must change with it."""
    from procrastinate.contrib.django import app
    from procrastinate.periodic import PeriodicDeferrer

    import policies.tasks  # noqa: F401 (registers the periodic jobs)

    periodic = {task.periodic_id: task for task in app.periodic_registry.periodic_tasks.values()}
    utc, oslo = datetime.UTC, ZoneInfo("Europe/Oslo")
    # A summer week (Oslo is UTC+2) from Sunday noon to Monday noon.
    since = datetime.datetime(2026, 7, 5, 12, tzinfo=utc).timestamp()
    until = datetime.datetime(2026, 7, 6, 12, tzinfo=utc).timestamp()
    deferrer = PeriodicDeferrer(registry=app.periodic_registry)
    for periodic_id, expected in (("activate_scheduled", (0, 5)), ("weekly_digest", (7, 0))):
        (at,) = deferrer.get_timestamps(periodic[periodic_id], since=int(since), until=until)
        when = datetime.datetime.fromtimestamp(at, utc)
        assert (when.hour, when.minute) == expected, (periodic_id, when.astimezone(oslo))
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    (row,) = [line for line in readme.splitlines() if line.startswith("| `JOBS_ACTIVATE_CRON`")]
    assert "UTC" in row and "Europe/Oslo" not in row, row
