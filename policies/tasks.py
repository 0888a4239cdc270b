"""Periodic jobs on procrastinate's queue, run by whichever worker is up.

Safe on several machines at once: procrastinate defers each periodic job once per scheduled time
however many workers run (a unique row per task and time), a queueing lock keeps a second copy
from piling up behind a slow one, and each job is idempotent on its own (row locks, unique
constraints), so even a job run twice changes nothing twice. The cron-style times come from
the settings (see README, "Background work").
"""

from __future__ import annotations

import contextlib
import datetime

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection, transaction
from django.utils import timezone
from procrastinate.contrib.django import app
from procrastinate.exceptions import AlreadyEnqueued

from operations.logging import bind_request_id
from people.models import Organisation

from .notices import queue_notices
from .reminders import expand_reminder_run, send_digests, week_of
from .workflow import activate_due_versions


@app.periodic(cron=settings.JOBS_ACTIVATE_CRON, periodic_id="activate_scheduled")
@app.task(name="policies.activate_scheduled", queueing_lock="activate_scheduled")
def activate_scheduled(timestamp: int) -> int:
    """Make scheduled versions current on their effective date (readers also trigger it)."""
    return activate_due_versions()


@app.periodic(cron=settings.JOBS_DIGEST_CRON, periodic_id="weekly_digest")
@app.task(name="policies.weekly_digest", queueing_lock="weekly_digest")
def weekly_digest(timestamp: int) -> None:
    """Fan the weekly digest out: one job per kommune, so a big one does not hold up the rest."""
    today = timezone.localdate()
    for organisation_id in Organisation.objects.order_by("pk").values_list("pk", flat=True):
        lock = f"digest:{organisation_id}:{week_of(today).isoformat()}"
        # Already queued (by another machine, or a run still waiting): nothing to add.
        with contextlib.suppress(AlreadyEnqueued), transaction.atomic():
            digest_organisation.configure(queueing_lock=lock).defer(
                organisation_id=organisation_id, day=today.isoformat()
            )


@app.task(name="policies.digest_organisation", queue="email")
def digest_organisation(organisation_id: int, day: str) -> None:
    """Queue one kommune's digests for the week of `day` (idempotent within the week)."""
    organisation = Organisation.objects.get(pk=organisation_id)
    send_digests(organisation=organisation, today=datetime.date.fromisoformat(day), dry_run=False)


@app.periodic(cron=settings.JOBS_CLEANUP_CRON, periodic_id="clean_up")
@app.task(name="policies.clean_up", queueing_lock="clean_up")
def clean_up(timestamp: int) -> dict[str, int]:
    """Delete expired sessions, lock-outs whose cool-off has passed, and sign-in records older than
    LOGIN_LOG_DAYS (django-axes); in the sign-in trail older than that, forget the address, the
    provider's subject and the details. The one place these are cleared; pseudonymising leavers is
    the retention job's (operations/tasks.py). Also folds the overview's due dates that have passed
    (policies_compact_compliance_summary: the same figures, fewer rows to read)."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    from signin.models import SignInEvent

    now = timezone.now()
    cooled_off = now - datetime.timedelta(hours=settings.AXES_COOLOFF_TIME)
    kept_since = now - datetime.timedelta(days=settings.LOGIN_LOG_DAYS)
    folded = 0
    # One kommune per transaction: each holds its kommune's summary lock only for its own rows.
    for organisation_id in Organisation.objects.order_by("pk").values_list("pk", flat=True):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT policies_compact_compliance_summary(%s)", [organisation_id])
            folded += cursor.fetchone()[0]
    return {
        "compliance_summary": folded,
        "sessions": Session.objects.filter(expire_date__lt=now).delete()[0],
        "lockouts": AccessAttempt.objects.filter(attempt_time__lt=cooled_off).delete()[0],
        "login_log": AccessLog.objects.filter(attempt_time__lt=kept_since).delete()[0],
        "failure_log": AccessFailureLog.objects.filter(attempt_time__lt=kept_since).delete()[0],
        "signin_trail": SignInEvent.objects.filter(created_at__lt=kept_since)
        .exclude(ip_address=None, subject="", detail={})
        .update(ip_address=None, subject="", detail={}),
    }


@app.task(name="policies.expand_reminders", queue="email", retry=10)
def expand_reminders(run_id: int, request_id: str = "") -> int:
    """Turn a manager's reminder run into its Reminder rows, outbox e-mails and delivery jobs
    (policies.reminders.expand_reminder_run; idempotent: a second run of the job writes nothing)."""
    with bind_request_id(request_id):
        return expand_reminder_run(run_id)


@app.task(name="policies.notify_change", queue="email", retry=10)
def notify_change(version_id: int, request_id: str = "") -> int:
    """Write the change notices of a version that became current (policies.notices.queue_notices;
    idempotent: a second run of the job writes nothing)."""
    with bind_request_id(request_id):
        return queue_notices(version_id)
