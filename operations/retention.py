"""The data lifecycle (GDPR art. 5(1)(e), storage limitation): what is kept, for how long, and how it ends.

Confirmations are evidence for the kommune's internal control and must outlive the employment; the
name on them need not. So, per organisation, `leaver_retention_months` after a person left (the
default of five years is argued in docs/personvern.md), `apply_retention` pseudonymises the person:
name, e-mail, username, employee number and password go; the row, its id and everything that points
to it stay. Their confirmations and the audit events that name them hold only that id, so nothing
append-only is touched and the database's append-only triggers stay in force throughout (the restore
drill's checksums over those tables do not change). What is not evidence goes: the person's reminders
and weekly-digest receipts with the e-mails behind them (and any other e-mail to their address), the
link to the kommune's sign-in, the admin's log lines naming them, their unit memberships.

It runs every night as a periodic job on the queue (operations/tasks.py), and by hand as
`manage.py apply_retention [--dry-run]`. Each organisation's pseudonymisation is one transaction with
its event. Expired sessions and old sign-in records are not its business: the nightly clean-up job
(policies/tasks.py, `clean_up`) deletes those.
"""

from __future__ import annotations

import calendar
import datetime
from dataclasses import dataclass, field

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone

from outbox.models import Email
from people.models import Organisation, Person
from policies.models import DigestDelivery, Event, EventVerb, Reminder
from signin.models import SignInIdentity


@dataclass
class RetentionResult:
    pseudonymised: dict[str, list[int]] = field(default_factory=dict)  # organisation slug → ids
    started_clock: int = 0  # leavers without a leaving date, given today's

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
    """Pseudonymise every leaver past their organisation's limit (each kommune in its own
    transaction, with its `pseudonymised` event); with `dry_run`, only say who that would be."""
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
    return result


def _pseudonymise(organisation: Organisation, ids: list[int], *, today: datetime.date) -> None:
    now = timezone.now()
    addresses = {
        email.lower() for email in Person.objects.filter(pk__in=ids).values_list("email", flat=True)
    } - {""}
    # An address someone else still has (a shared mailbox) keeps its e-mails: they are theirs too.
    addresses -= set(
        Person.objects.exclude(pk__in=ids)
        .annotate(address=Lower("email"))
        .filter(address__in=addresses)
        .values_list("address", flat=True)
    )
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
    # The e-mails sent to them (reminders, digests, notices) carry their name and address: they go
    # with the receipts that point at them. The provider's subject would name them in the
    # kommune's directory: their sign-in link goes too (a returning employee is linked afresh).
    reminders = Reminder.objects.filter(person_id__in=ids)
    digests = DigestDelivery.objects.filter(person_id__in=ids)
    email_ids = {
        *reminders.exclude(email=None).values_list("email_id", flat=True),
        *digests.exclude(email=None).values_list("email_id", flat=True),
    }
    reminders.delete()
    digests.delete()
    Email.objects.filter(pk__in=email_ids).delete()
    Email.objects.annotate(address=Lower("to")).filter(address__in=addresses).delete()
    SignInIdentity.objects.filter(person_id__in=ids).delete()
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
