"""The data lifecycle (GDPR art. 5(1)(e), storage limitation): what is kept, for how long, and how it ends.

Confirmations are evidence for the kommune's internal control and must outlive the employment; the
name on them need not. So, per organisation, `leaver_retention_months` after a person left (the
default of five years is argued in docs/personvern.md), `apply_retention` pseudonymises the person:
name, e-mail, username, employee number and password go; the row, its id and everything that points
to it stay. Their confirmations and the audit events that name them hold only that id, so nothing
append-only is touched and the database's append-only triggers stay in force throughout (the restore
drill's checksums over those tables do not change). What is not evidence goes: the person's reminders
and weekly-digest receipts, the admin's log lines naming them, their unit memberships.

One daily run also clears expired sessions and sign-in failure logs older than
`SIGN_IN_LOG_RETENTION_DAYS`. Each organisation's pseudonymisation is one transaction with its event.
"""

from __future__ import annotations

import calendar
import datetime
from dataclasses import dataclass, field

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from people.models import Organisation, Person
from policies.models import DigestDelivery, Event, EventVerb, Reminder


@dataclass
class RetentionResult:
    pseudonymised: dict[str, list[int]] = field(default_factory=dict)  # organisation slug → ids
    started_clock: int = 0  # leavers without a leaving date, given today's
    sessions: int = 0
    sign_in_logs: int = 0

    @property
    def people(self) -> int:
        return sum(len(ids) for ids in self.pseudonymised.values())


def months_before(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` calendar months earlier (the last day of a shorter month)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def pseudonym(person_id: int) -> str:
    return f"slettet-{person_id}"


def due_for_pseudonymisation(organisation: Organisation, *, today: datetime.date):
    """The leavers of `organisation` whose retention ran out on or before `today`."""
    cutoff = months_before(today, organisation.leaver_retention_months)
    return Person.objects.filter(
        organisation=organisation,
        is_active=False,
        is_superuser=False,
        left_on__lte=cutoff,
        pseudonymised_at__isnull=True,
    )


def apply_retention(
    *, today: datetime.date | None = None, dry_run: bool = False
) -> RetentionResult:
    """Pseudonymise every leaver past their organisation's limit; clear expired sessions and logs."""
    today = today or timezone.localdate()
    result = RetentionResult()
    for organisation in Organisation.objects.order_by("slug"):
        with transaction.atomic():
            # A leaver deactivated by hand in the admin has no leaving date: the clock starts now.
            result.started_clock += Person.objects.filter(
                organisation=organisation, is_active=False, left_on__isnull=True
            ).update(left_on=today)
            ids = list(
                due_for_pseudonymisation(organisation, today=today)
                .select_for_update()
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            if ids:
                result.pseudonymised[organisation.slug] = ids
                _pseudonymise(organisation, ids, today=today)
            if dry_run:
                transaction.set_rollback(True)
    if not dry_run:
        result.sessions, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
        since = timezone.now() - datetime.timedelta(days=settings.SIGN_IN_LOG_RETENTION_DAYS)
        result.sign_in_logs = (
            AccessFailureLog.objects.filter(attempt_time__lt=since).delete()[0]
            + AccessLog.objects.filter(attempt_time__lt=since).delete()[0]
            + AccessAttempt.objects.filter(attempt_time__lt=since).delete()[0]
        )
    return result


def _pseudonymise(organisation: Organisation, ids: list[int], *, today: datetime.date) -> None:
    now = timezone.now()
    for person in Person.objects.filter(pk__in=ids):
        person.username = pseudonym(person.pk)
        person.first_name = person.last_name = person.email = person.employee_number = ""
        person.set_unusable_password()
        person.pseudonymised_at = now
        person.save(
            update_fields=[
                "username", "first_name", "last_name", "email", "employee_number", "password",
                "pseudonymised_at",
            ]
        )  # fmt: skip
    Person.managed_units.through.objects.filter(person_id__in=ids).delete()
    Reminder.objects.filter(person_id__in=ids).delete()
    DigestDelivery.objects.filter(person_id__in=ids).delete()
    person_type = ContentType.objects.get_for_model(Person)
    for person_id in ids:
        LogEntry.objects.filter(content_type=person_type, object_id=str(person_id)).update(
            object_repr=pseudonym(person_id)
        )
    Event.objects.create(
        organisation=organisation,
        verb=EventVerb.PSEUDONYMISED,
        detail={
            "people": len(ids),
            "person_ids": ids,
            "retention_months": organisation.leaver_retention_months,
            "left_on_or_before": months_before(
                today, organisation.leaver_retention_months
            ).isoformat(),
        },
    )
