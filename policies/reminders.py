"""Writes on the manager side: exports recorded in the audit trail, reminders and weekly digests.

Every function is one transaction that also writes its Event; e-mail leaves only after the
transaction has committed, so a rolled-back reminder is never sent and a sent one is always recorded.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from people.models import Organisation, Person, Unit

from .access import manager_scope
from .dashboards import Scope, missing_people, outstanding_by_person, overview
from .models import ChangeKind, DigestDelivery, Event, EventVerb, Policy, Reminder
from .workflow import record_event

REMINDER_INTERVAL = datetime.timedelta(days=7)


def record_export(
    *, by: Person, policy: Policy, unit: Unit | None, kind: str, missing_only: bool, sort: str
) -> Event:
    """Write the audit entry for an export or print of a person list (who, what, when)."""
    return record_event(
        EventVerb.EXPORTED,
        policy=policy,
        by=by,
        format=kind,
        unit_id=unit.pk if unit else None,
        unit=unit.name if unit else None,
        missing_only=missing_only,
        sort=sort,
    )


# --- Reminders ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReminderPlan:
    """Who would get a reminder now, and how many are skipped (reminded within 7 days, no e-mail)."""

    recipients: list[Person]
    recently_reminded: int
    without_email: int

    @property
    def skipped(self) -> int:
        return self.recently_reminded + self.without_email


def plan_reminders(*, scope: Scope, policy: Policy) -> ReminderPlan:
    """Those in scope who have not confirmed `policy`, less those the throttle or a missing address stops."""
    missing = missing_people(scope, policy)
    since = timezone.now() - REMINDER_INTERVAL
    recent = set(
        Reminder.objects.filter(
            policy=policy, person_id__in=missing, sent_at__gte=since
        ).values_list("person_id", flat=True)
    )
    candidates = Person.objects.filter(pk__in=[pk for pk in missing if pk not in recent]).order_by(
        "pk"
    )
    recipients = [p for p in candidates if p.email]
    return ReminderPlan(
        recipients=recipients,
        recently_reminded=len(recent),
        without_email=len(candidates) - len(recipients),
    )


def remind(*, scope: Scope, policy: Policy, unit: Unit | None, by: Person) -> ReminderPlan:
    """Send "Husk å bekrefte" to everyone in scope who has not confirmed `policy`.

    Never more than one reminder per person and policy within seven days: a double submit or a
    second manager of the same unit finds everyone already reminded and sends nothing.
    """
    with transaction.atomic():
        # Lock the policy row: two reminders for it at once are serialised, so the second one
        # sees the first one's Reminder rows and skips those people.
        Policy.objects.select_for_update().get(pk=policy.pk)
        plan = plan_reminders(scope=scope, policy=policy)
        now = timezone.now()
        Reminder.objects.bulk_create(
            [Reminder(person=p, policy=policy, sent_by=by, sent_at=now) for p in plan.recipients]
        )
        record_event(
            EventVerb.REMINDED,
            policy=policy,
            by=by,
            unit_id=unit.pk if unit else None,
            sent=len(plan.recipients),
            skipped_recently_reminded=plan.recently_reminded,
            skipped_without_email=plan.without_email,
        )
        change = _latest_change(policy)
        messages = [_reminder_message(person, policy, by, change) for person in plan.recipients]
        if messages:
            transaction.on_commit(lambda: _send(messages), robust=True)
    return plan


def _latest_change(policy: Policy):
    """What the reminder says about the version to confirm: the same context as a change notice."""
    from .notices import change_context

    required = (
        policy.versions.published()
        .filter(change_kind=ChangeKind.MATERIAL)
        .select_related("policy__organisation")
        .order_by("-number")
        .first()
    )
    return change_context(required) if required else None


def _reminder_message(person: Person, policy: Policy, by=None, change=None) -> EmailMessage:
    body = render_to_string(
        "manager/email/reminder.txt",
        {
            "person": person,
            "policy": policy,
            "link": settings.SITE_URL + policy.get_absolute_url(),
            "leader": by,
            "change": change,
        },
    )
    return EmailMessage(
        subject=f"Påminnelse: bekreft «{policy.title}»",
        body=body,
        to=[person.email],
    )


def _send(messages: list[EmailMessage]) -> None:
    # Called after commit with robust=True: a mail server that is down is logged, and the manager
    # still sees the page (the reminders are recorded; the next ones may go in seven days).
    # One connection for the whole batch: an SMTP server should not see a login per message.
    with get_connection() as connection:
        connection.send_messages(messages)


# --- The weekly digest -------------------------------------------------------------------------


def week_of(day: datetime.date) -> datetime.date:
    """The Monday of the ISO week `day` falls in: the key that makes a digest once a week."""
    return day - datetime.timedelta(days=day.weekday())


@dataclass
class DigestResult:
    people: int = 0
    managers: int = 0
    already_sent: int = 0


def send_digests(
    *, organisation: Organisation, today: datetime.date, dry_run: bool
) -> DigestResult:
    """One e-mail per person with what they still must confirm, one per manager about their units.

    Idempotent within an ISO week: a DigestDelivery row (unique per person, week and kind) is
    written in the same transaction as the decision to send, and the e-mail goes after commit.
    """
    week = week_of(today)
    result = DigestResult()
    with transaction.atomic():
        # Two runs at once (cron and a manual run) queue here; the second then finds it all sent.
        Organisation.objects.select_for_update().get(pk=organisation.pk)
        sent_before = set(
            DigestDelivery.objects.filter(week=week, person__organisation=organisation).values_list(
                "person_id", "kind"
            )
        )
        messages: list[EmailMessage] = []
        deliveries: list[DigestDelivery] = []
        policies = {p.pk: p for p in Policy.objects.filter(organisation=organisation)}
        outstanding = outstanding_by_person(Scope(organisation_id=organisation.pk))
        people = Person.objects.filter(pk__in=outstanding, is_active=True).exclude(email="")
        for person in people.order_by("pk"):
            if (person.pk, DigestDelivery.Kind.PERSON) in sent_before:
                result.already_sent += 1
                continue
            items = [(policies[pid], due) for pid, due in outstanding[person.pk]]
            messages.append(_person_digest(person, items, today))
            deliveries.append(_delivery(person, week, DigestDelivery.Kind.PERSON))
            result.people += 1
        managers = _managers_of(organisation)
        for manager in managers:
            if (manager.pk, DigestDelivery.Kind.MANAGER) in sent_before:
                result.already_sent += 1
                continue
            message = _manager_digest(manager)
            if message is None:
                continue
            messages.append(message)
            deliveries.append(_delivery(manager, week, DigestDelivery.Kind.MANAGER))
            result.managers += 1
        if dry_run:
            transaction.set_rollback(True)
            return result
        DigestDelivery.objects.bulk_create(deliveries)
        Event.objects.create(
            organisation=organisation,
            verb=EventVerb.DIGEST_SENT,
            detail={
                "week": week.isoformat(),
                "people": result.people,
                "managers": result.managers,
                "already_sent": result.already_sent,
            },
        )
        if messages:
            transaction.on_commit(lambda: _send(messages), robust=True)
    return result


def _managers_of(organisation: Organisation):
    return (
        Person.objects.filter(organisation=organisation, is_active=True)
        .exclude(email="")
        .filter(Q(sees_whole_organisation=True) | Q(managed_units__isnull=False))
        .distinct()
        .order_by("pk")
    )


def _delivery(person: Person, week: datetime.date, kind: str) -> DigestDelivery:
    return DigestDelivery(person=person, week=week, kind=kind)


def _person_digest(person: Person, items, today: datetime.date) -> EmailMessage:
    body = render_to_string(
        "manager/email/digest_person.txt",
        {
            "person": person,
            "items": [
                {
                    "policy": policy,
                    "due": due,
                    "overdue": due < today,
                    "link": settings.SITE_URL + policy.get_absolute_url(),
                }
                for policy, due in items
            ],
            "site_url": settings.SITE_URL,
        },
    )
    count = len(items)
    noun = "retningslinje" if count == 1 else "retningslinjer"
    return EmailMessage(
        subject=f"Ukesoversikt: {count} {noun} å bekrefte", body=body, to=[person.email]
    )


def _manager_digest(manager: Person) -> EmailMessage | None:
    scope = manager_scope(manager)
    summary = overview(scope, [])
    if summary.total.must == 0:
        return None
    body = render_to_string(
        "manager/email/digest_manager.txt",
        {
            "manager": manager,
            "summary": summary,
            "link": settings.SITE_URL + "/oversikt/",
        },
    )
    return EmailMessage(
        subject=f"Ukesoversikt for dine enheter: {summary.total.percent} % har bekreftet",
        body=body,
        to=[manager.email],
    )
