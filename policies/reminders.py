"""Writes on the manager side: reminders and weekly digests.

Every function is one transaction that also writes its Event and puts its e-mails in the outbox
(outbox.mail), so a rolled-back reminder is never sent and a committed one is sent by the worker,
retried while the mail server is down, and its state ("venter", "sendt", "feilet") is on record.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from outbox.mail import Message, enqueue_emails, header_safe
from people.models import Organisation, Person, Unit

from .access import manager_scope
from .audit import record_event
from .dashboards import Scope, missing_people, outstanding_by_person, overview
from .models import DigestDelivery, Event, EventVerb, Policy, Reminder

REMINDER_INTERVAL = datetime.timedelta(days=7)


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
        Reminder.objects.throttling(since)
        .filter(policy=policy, person_id__in=missing)
        .values_list("person_id", flat=True)
    )
    candidates = (
        Person.objects.filter(pk__in=[pk for pk in missing if pk not in recent])
        .only("pk", "email", "first_name", "username")
        .order_by("pk")
    )
    recipients = [p for p in candidates if p.email]
    return ReminderPlan(
        recipients=recipients,
        recently_reminded=len(recent),
        without_email=len(candidates) - len(recipients),
    )


def remind(*, scope: Scope, policy: Policy, unit: Unit | None, by: Person) -> ReminderPlan:
    """Queue "Husk å bekrefte" for everyone in scope who has not confirmed `policy`.

    Never more than one reminder per person and policy within seven days unless the last one
    failed: a double submit or a second manager of the same unit finds everyone already reminded
    and queues nothing. The e-mails are sent by the worker; each Reminder's e-mail says how it went.
    """
    with transaction.atomic():
        # Lock the policy row: two reminders for it at once are serialised, so the second one
        # sees the first one's Reminder rows and skips those people.
        Policy.objects.select_for_update().get(pk=policy.pk)
        plan = plan_reminders(scope=scope, policy=policy)
        now = timezone.now()
        emails = enqueue_emails(_reminder_message(person, policy) for person in plan.recipients)
        Reminder.objects.bulk_create(
            [
                Reminder(person=person, policy=policy, sent_by=by, sent_at=now, email=email)
                for person, email in zip(plan.recipients, emails, strict=True)
            ],
            batch_size=5000,
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
    return plan


def _reminder_message(person: Person, policy: Policy) -> Message:
    # Rendered by the worker from this context: a reminder to 20 000 people is queued in a moment.
    return Message(
        to=person.email,
        subject=f"Påminnelse: bekreft «{header_safe(policy.title)}»",
        kind="reminder",
        template="manager/email/reminder.txt",
        context={
            "first_name": person.first_name or person.username,
            "policy_title": policy.title,
            "organisation_name": policy.organisation.name,
            "link": settings.SITE_URL + policy.get_absolute_url(),
        },
    )


@dataclass(frozen=True)
class ReminderState:
    """Where the latest reminder to one person stands: "venter", "sendt" or "feilet"."""

    status: str
    asked_at: datetime.datetime
    sent_at: datetime.datetime | None

    @property
    def label(self) -> str:
        labels = {"venter": _("Venter"), "sendt": _("Sendt"), "feilet": _("Feilet")}
        return str(labels.get(self.status, ""))


def reminder_states(*, policy: Policy, person_ids: list[int]) -> dict[int, ReminderState]:
    """The latest reminder about `policy` to each of `person_ids`, in one query."""
    rows = (
        Reminder.objects.filter(policy=policy, person_id__in=person_ids)
        .order_by("person_id", "-sent_at", "-pk")
        .distinct("person_id")
        .values_list("person_id", "email__status", "sent_at", "email__sent_at")
    )
    return {
        pid: ReminderState(status=status or "sendt", asked_at=asked, sent_at=sent)
        for pid, status, asked, sent in rows
    }


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
    written in the same transaction as the decision to send, with its e-mail in the outbox.
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
        messages: list[Message] = []
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
        emails = enqueue_emails(messages)
        for delivery, email in zip(deliveries, emails, strict=True):
            delivery.email = email
        DigestDelivery.objects.bulk_create(deliveries, batch_size=5000)
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
    return result


def _managers_of(organisation: Organisation):
    return (
        Person.objects.filter(organisation=organisation, is_active=True)
        .exclude(email="")
        # Only units of this organisation make someone its manager (manager_scope ignores others).
        .filter(Q(sees_whole_organisation=True) | Q(managed_units__organisation=organisation))
        .distinct()
        .order_by("pk")
    )


def _delivery(person: Person, week: datetime.date, kind: str) -> DigestDelivery:
    return DigestDelivery(person=person, week=week, kind=kind)


def _person_digest(person: Person, items, today: datetime.date) -> Message:
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
    return Message(
        to=person.email,
        subject=f"Ukesoversikt: {count} {noun} å bekrefte",
        kind="digest",
        body=body,
    )


def _manager_digest(manager: Person) -> Message | None:
    scope = manager_scope(manager)
    summary = overview(scope, [])
    if summary.total.must == 0:
        return None
    body = render_to_string(
        "manager/email/digest_manager.txt",
        {
            "manager": manager,
            "summary": summary,
            "link": settings.SITE_URL + reverse("manager_overview"),
        },
    )
    return Message(
        to=manager.email,
        subject=f"Ukesoversikt for dine enheter: {summary.total.percent} % har bekreftet",
        kind="digest",
        body=body,
    )
