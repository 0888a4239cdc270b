"""Writes on the manager side: reminders and weekly digests.

Every function is one transaction that also writes its Event and puts its e-mails in the outbox
(outbox.mail), so a rolled-back reminder is never sent and a committed one is sent by the worker,
retried while the mail server is down, and its state ("venter", "sendt", "feilet") is on record.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.contrib.postgres.aggregates import JSONBAgg
from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    CharField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    JSONField,
    OuterRef,
    Q,
    Value,
)
from django.db.models.functions import Cast, Coalesce, JSONObject, NullIf
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from operations.logging import current_request_id
from outbox.mail import (
    Message,
    defer_in_transaction,
    enqueue_each,
    enqueue_emails,
    header_safe,
)
from people.language import language_codes, person_language, person_language_sql
from people.models import Organisation, Person, Unit

from .access import manager_scope
from .audit import record_event
from .dashboards import Scope, overview
from .models import (
    Confirmation,
    DigestDelivery,
    Event,
    EventVerb,
    Policy,
    Reminder,
    ReminderRun,
)
from .notices import latest_change, leaders_by_unit
from .translations import titles_by_language

REMINDER_INTERVAL = datetime.timedelta(days=7)


# --- Reminders ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReminderPlan:
    """Who gets a reminder now (person ids), and how many are skipped (reminded within 7 days, or
    without an e-mail address)."""

    recipients: list[int]
    recently_reminded: int
    without_email: int

    @property
    def skipped(self) -> int:
        return self.recently_reminded + self.without_email


def _candidates(scope: Scope, policy: Policy, pending: list[ReminderRun] | tuple = ()):
    """The obligations of `policy` in scope not yet met (one row per person, with their own
    `due` date), each marked `recently_reminded`: reminded within seven days, or covered (with
    an address) by a run not yet expanded."""
    since = timezone.now() - REMINDER_INTERVAL
    recent = Reminder.objects.throttling(since).filter(policy=policy, person=OuterRef("person_id"))
    held = Exists(recent)
    for run in pending:
        held = held | (Q(person_id__in=run_scope(run).people().values("pk")) & ~Q(person__email=""))
    return (
        scope.obligations()
        .for_policy(policy)
        .missing()
        .annotate(recently_reminded=ExpressionWrapper(held, output_field=BooleanField()))
    )


def _skipped(candidates) -> tuple[int, int]:
    counts = candidates.aggregate(
        recent=Count("person_id", filter=Q(recently_reminded=True)),
        without_email=Count("person_id", filter=Q(recently_reminded=False, person__email="")),
    )
    return counts["recent"], counts["without_email"]


def _due_for_reminder(candidates):
    return (
        candidates.filter(recently_reminded=False).exclude(person__email="").order_by("person_id")
    )


def run_scope(run: ReminderRun) -> Scope:
    """The manager's scope a reminder run was asked for."""
    paths = None if run.unit_paths is None else tuple(run.unit_paths)
    return Scope(organisation_id=run.organisation_id_of_scope, unit_paths=paths)


def _pending_runs(policy: Policy) -> list[ReminderRun]:
    """The runs of `policy` the worker has not expanded yet. One older than the throttle's seven
    days (its job gave up) holds nobody back any more, so the manager can ask again."""
    return list(
        ReminderRun.objects.filter(
            policy=policy, expanded_at=None, asked_at__gte=timezone.now() - REMINDER_INTERVAL
        ).order_by("pk")
    )


def plan_reminders(*, scope: Scope, policy: Policy) -> ReminderPlan:
    """Those in scope who have not confirmed `policy`, less those the throttle or a missing address stops."""
    candidates = _candidates(scope, policy, _pending_runs(policy))
    recent, without_email = _skipped(candidates)
    recipients = list(_due_for_reminder(candidates).values_list("person_id", flat=True))
    return ReminderPlan(
        recipients=recipients, recently_reminded=recent, without_email=without_email
    )


@dataclass(frozen=True)
class ReminderRequest:
    """What the manager's click queued: how many will get a reminder, and how many are skipped."""

    queued: int
    recently_reminded: int
    without_email: int

    @property
    def skipped(self) -> int:
        return self.recently_reminded + self.without_email


def request_reminders(
    *, scope: Scope, policy: Policy, unit: Unit | None, by: Person
) -> ReminderRequest:
    """The manager's click: queue "Husk å bekrefte" for everyone in scope who has not confirmed.

    Answers at once however big the scope: it writes one ReminderRun (the cause), its audit event
    and ONE job, in one transaction; the worker's job (`expand_reminder_run`) then writes the
    Reminder and outbox e-mail per person, set-based, exactly once. Until then the people the run
    covers count as reminded (a second click or a second manager queues nothing for them) and the
    person list shows them as "Venter".
    """
    from .tasks import expand_reminders

    with transaction.atomic():
        # Serialised per policy with other clicks and with the expansion of earlier runs.
        Policy.objects.select_for_update().get(pk=policy.pk)
        candidates = _candidates(scope, policy, _pending_runs(policy))
        counts = candidates.aggregate(
            recent=Count("person_id", filter=Q(recently_reminded=True)),
            without_email=Count("person_id", filter=Q(recently_reminded=False, person__email="")),
            due=Count("person_id", filter=Q(recently_reminded=False) & ~Q(person__email="")),
        )
        run_id = None
        if counts["due"]:
            run = ReminderRun.objects.create(
                policy=policy,
                unit=unit,
                sent_by=by,
                organisation_id_of_scope=scope.organisation_id,
                unit_paths=None if scope.unit_paths is None else list(scope.unit_paths),
                planned=counts["due"],
            )
            run_id = run.pk
            defer_in_transaction(
                expand_reminders, {"run_id": run.pk, "request_id": current_request_id()}
            )
        record_event(
            EventVerb.REMINDED,
            policy=policy,
            by=by,
            unit_id=unit.pk if unit else None,
            sent=counts["due"],
            skipped_recently_reminded=counts["recent"],
            skipped_without_email=counts["without_email"],
            run=run_id,
        )
    return ReminderRequest(
        queued=counts["due"],
        recently_reminded=counts["recent"],
        without_email=counts["without_email"],
    )


def expand_reminder_run(run_id: int) -> int:
    """The worker's half of `request_reminders`: one Reminder and one outbox e-mail per person the
    run covers (set-based, see `_queue_reminders`), and their delivery jobs, in one transaction.

    Exactly once: the run's row is locked and marked expanded in that same transaction, so a job
    run again (a retry, a worker killed after commit) finds it expanded and writes nothing. The
    throttle is checked again here, under the policy's lock: a person reminded meanwhile is
    skipped. Returns how many e-mails it queued.
    """
    with transaction.atomic():
        run = ReminderRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.expanded_at is not None:
            return 0
        policy = (
            Policy.objects.select_for_update(of=("self",))
            .select_related("organisation")
            .get(pk=run.policy_id)
        )
        queued = _queue_reminders(
            _candidates(run_scope(run), policy), policy, by_id=run.sent_by_id, at=run.asked_at
        )
        run.expanded_at = timezone.now()
        run.queued = len(queued)
        run.save(update_fields=["expanded_at", "queued"])
    return len(queued)


def _queue_reminders(candidates, policy: Policy, *, by_id: int | None, at) -> list[tuple[int, int]]:
    """The e-mails (one INSERT … SELECT, outbox.mail.enqueue_each) and Reminder rows of those
    `candidates` due a reminder; returns (person, e-mail) pairs."""
    # The same context as a change notice (what changed, by when, where to read only that), and
    # the name of the manager who sends it. What depends on the language is written once per
    # language and picked per row by the recipient's (people.language.person_language_sql).
    language = person_language_sql(policy.organisation.language, field="person__language")
    change = latest_change(policy)
    sender = Person.objects.filter(pk=by_id).first() if by_id else None
    titles = titles_by_language([policy])[policy.pk]
    subjects = {}
    for code, title in titles.items():
        with translation.override(code):
            subjects[code] = gettext("Påminnelse: bekreft «%(title)s»") % {
                "title": header_safe(title)
            }
    extra = {"leader_name": Value(sender.display_name if sender else "")}
    if change is not None:
        extra["change"] = _Entry(Value(change.in_languages(), output_field=JSONField()), language)
    queued = enqueue_each(
        _due_for_reminder(candidates).values(
            recipient=F("person_id"),
            to=F("person__email"),
            subject=_TextEntry(Value(subjects, output_field=JSONField()), language),
            context=JSONObject(
                first_name=Coalesce(NullIf("person__first_name", Value("")), "person__username"),
                policy_title=_TextEntry(Value(titles, output_field=JSONField()), language),
                organisation_name=Value(policy.organisation.name),
                link=Value(settings.SITE_URL + policy.get_absolute_url()),
                **_deadline_and_reading(timezone.localdate()),
                language=language,
                **extra,
            ),
        ),
        kind="reminder",
        template="manager/email/reminder.txt",
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO policies_reminder (person_id, policy_id, sent_by_id, sent_at, email_id)"
            " SELECT person_id, %s, %s, %s, email_id"
            " FROM unnest(%s::bigint[], %s::bigint[]) AS queued (person_id, email_id)",
            [policy.pk, by_id, at, [p for p, _ in queued], [e for _, e in queued]],
        )
    return queued


def _deadline_and_reading(today: datetime.date) -> dict:
    """What a reminder and a digest say of one obligation row: the person's own deadline (a
    newcomer's runs from when they joined their unit), whether it has passed, and whether they
    confirmed an earlier version (Confirmation.OLDER): only then is "what changed" enough."""
    return {
        "due": F("due"),
        "overdue": ExpressionWrapper(Q(due__lt=today), output_field=BooleanField()),
        "confirmed_before": ExpressionWrapper(
            Q(status=Confirmation.OLDER), output_field=BooleanField()
        ),
    }


def remind(*, scope: Scope, policy: Policy, unit: Unit | None, by: Person) -> ReminderPlan:
    """Queue "Husk å bekrefte" for everyone in scope who has not confirmed `policy`, at once
    (the Reminder rows and e-mails in this transaction; the manager's page uses
    `request_reminders`, which leaves that to the worker).

    Never more than one reminder per person and policy within seven days unless the last one
    failed: a double submit or a second manager of the same unit finds everyone already reminded
    and queues nothing. The e-mails are sent by the worker; each Reminder's e-mail says how it went.
    """
    with transaction.atomic():
        # Lock the policy row: two reminders for it at once are serialised, so the second one
        # sees the first one's Reminder rows and skips those people.
        Policy.objects.select_for_update().get(pk=policy.pk)
        candidates = _candidates(scope, policy, _pending_runs(policy))
        recent, without_email = _skipped(candidates)
        queued = _queue_reminders(candidates, policy, by_id=by.pk, at=timezone.now())
        record_event(
            EventVerb.REMINDED,
            policy=policy,
            by=by,
            unit_id=unit.pk if unit else None,
            sent=len(queued),
            skipped_recently_reminded=recent,
            skipped_without_email=without_email,
        )
    return ReminderPlan(
        recipients=[person for person, _ in queued],
        recently_reminded=recent,
        without_email=without_email,
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
    """The latest reminder about `policy` to each of `person_ids`: one query, and one more per
    run the worker has not expanded yet (those it covers are "Venter")."""
    rows = (
        Reminder.objects.filter(policy=policy, person_id__in=person_ids)
        .order_by("person_id", "-sent_at", "-pk")
        .distinct("person_id")
        .values_list("person_id", "email__status", "sent_at", "email__sent_at")
    )
    states = {
        pid: ReminderState(status=status or "sendt", asked_at=asked, sent_at=sent)
        for pid, status, asked, sent in rows
    }
    if person_ids:
        for run in _pending_runs(policy):
            due = _due_for_reminder(_candidates(run_scope(run), policy))
            for pid in due.filter(person_id__in=person_ids).values_list("person_id", flat=True):
                states[pid] = ReminderState(status="venter", asked_at=run.asked_at, sent_at=None)
    return states


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
    The people's e-mails are one INSERT … SELECT from the obligations (outbox.mail.enqueue_each),
    rendered by the worker; only the managers' summaries are written here one by one.
    """
    week = week_of(today)
    result = DigestResult()
    with transaction.atomic():
        # Two runs at once (cron and a manual run) queue here; the second then finds it all sent.
        Organisation.objects.select_for_update().get(pk=organisation.pk)
        outstanding = (
            Scope(organisation_id=organisation.pk)
            .obligations()
            .missing()
            .filter(person__is_active=True)
            .exclude(person__email="")
        )
        had_it = DigestDelivery.objects.filter(
            week=week, kind=DigestDelivery.Kind.PERSON, person=OuterRef("person_id")
        )
        counts = outstanding.aggregate(
            already=Count("person_id", distinct=True, filter=Exists(had_it)),
            due=Count("person_id", distinct=True, filter=~Exists(had_it)),
        )
        result.people, result.already_sent = counts["due"], counts["already"]
        sent_before = set(
            DigestDelivery.objects.filter(
                week=week, kind=DigestDelivery.Kind.MANAGER, person__organisation=organisation
            ).values_list("person_id", flat=True)
        )
        messages: list[Message] = []
        deliveries: list[DigestDelivery] = []
        # The kommune's few policies and their titles in each language, for both kinds of digest.
        kommune_policies = list(Policy.objects.filter(organisation=organisation))
        titles = titles_by_language(kommune_policies)
        for manager in _managers_of(organisation):
            if manager.pk in sent_before:
                result.already_sent += 1
                continue
            message = _manager_digest(manager, titles)
            if message is None:
                continue
            messages.append(message)
            deliveries.append(_delivery(manager, week, DigestDelivery.Kind.MANAGER))
            result.managers += 1
        if dry_run:
            transaction.set_rollback(True)
            return result
        queued = enqueue_each(
            _person_digests(
                organisation,
                outstanding.exclude(Exists(had_it)),
                today,
                kommune_policies=kommune_policies,
                titles=titles,
            ),
            kind="digest",
            template="manager/email/digest_person.txt",
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO policies_digestdelivery (person_id, week, kind, sent_at, email_id)"
                " SELECT person_id, %s, %s, %s, email_id"
                " FROM unnest(%s::bigint[], %s::bigint[]) AS queued (person_id, email_id)",
                [
                    week,
                    DigestDelivery.Kind.PERSON,
                    timezone.now(),
                    [p for p, _ in queued],
                    [e for _, e in queued],
                ],
            )
        emails = enqueue_emails(messages)
        for delivery, email in zip(deliveries, emails, strict=True):
            delivery.email = email
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
    return result


class _Entry(Func):
    """`mapping -> key` in SQL: the entry of a JSON object (a parameter) named by a column."""

    arg_joiner = " -> "
    template = "(%(expressions)s)"
    output_field = JSONField()


class _TextEntry(Func):
    """`mapping ->> key` in SQL: the same entry as text."""

    arg_joiner = " ->> "
    template = "(%(expressions)s)"
    output_field = CharField()


def _person_digests(
    organisation: Organisation,
    outstanding,
    today: datetime.date,
    *,
    kommune_policies: list[Policy],
    titles: dict[int, dict[str, str]],
):
    """One row per person: address, subject and the template context of their digest, in the
    person's language (people.language.person_language_sql). `titles` is
    policies.translations.titles_by_language of `kommune_policies`, the kommune's policies."""
    language = person_language_sql(organisation.language, field="person__language")
    codes = language_codes()
    # The few policies of the kommune, with their addresses from reverse(), their titles and the
    # material change everyone must confirm (as a change notice tells it), in each language, go
    # in as one value; each item picks its policy in the person's language.
    policies: dict[str, dict] = {code: {} for code in codes}
    for policy in kommune_policies:
        policy.organisation = organisation
        change = latest_change(policy)
        changes = change.in_languages() if change and not change.is_new_policy else None
        for code in codes:
            policies[code][str(policy.pk)] = {
                "title": titles[policy.pk][code],
                "link": settings.SITE_URL + policy.get_absolute_url(),
                "change": changes[code] if changes else None,
            }
    # The subject for every count a person can have, in each language (its plural forms are the
    # language's own), so the statement only looks it up.
    subjects: dict[str, dict] = {}
    for code in codes:
        with translation.override(code):
            subjects[code] = {
                str(n): ngettext(
                    "Ukesoversikt: %(count)s retningslinje å bekrefte",
                    "Ukesoversikt: %(count)s retningslinjer å bekrefte",
                    n,
                )
                % {"count": n}
                for n in range(1, len(kommune_policies) + 1)
            }
    # The leader of each unit (see notices.leaders_by_unit), also one value: the nearest manager
    # above a person, or the next one when the person is that manager.
    leaders = {
        str(unit_id): {"id": first[0], "name": first[1], "else": second[1] if second else ""}
        for unit_id, (first, second) in leaders_by_unit(organisation.pk).items()
        if first is not None
    }
    item = JSONObject(
        policy=_Entry(
            _Entry(Value(policies, output_field=JSONField()), language),
            Cast("policy_id", CharField()),
        ),
        **_deadline_and_reading(today),
    )
    return (
        outstanding.values("person_id")
        .annotate(items=JSONBAgg(item, order_by=("due", "policy_id")), count=Count("*"))
        .order_by("person_id")
        .values(
            recipient=F("person_id"),
            to=F("person__email"),
            subject=_TextEntry(
                _Entry(Value(subjects, output_field=JSONField()), language),
                Cast("count", CharField()),
            ),
            context=JSONObject(
                first_name=Coalesce(NullIf("person__first_name", Value("")), "person__username"),
                items=F("items"),
                person_id=F("person_id"),
                leader=_Entry(
                    Value(leaders, output_field=JSONField()), Cast("person__unit_id", CharField())
                ),
                language=language,
            ),
        )
    )


def _managers_of(organisation: Organisation):
    return (
        Person.objects.filter(organisation=organisation, is_active=True)
        .exclude(email="")
        # Only units of this organisation make someone its manager (manager_scope ignores others).
        .filter(Q(sees_whole_organisation=True) | Q(managed_units__organisation=organisation))
        .select_related("organisation")
        .distinct()
        .order_by("pk")
    )


def _delivery(person: Person, week: datetime.date, kind: str) -> DigestDelivery:
    return DigestDelivery(person=person, week=week, kind=kind)


def _manager_digest(manager: Person, titles: dict[int, dict[str, str]]) -> Message | None:
    """The summary for one manager, written here in the manager's language, each policy named
    as `titles` (policies.translations.titles_by_language) has it in that language."""
    scope = manager_scope(manager)
    summary = overview(scope, [])
    if summary.total.must == 0:
        return None
    language = person_language(manager.language, manager.organisation.language)
    rows = [
        {"title": titles.get(row.policy.pk, {}).get(language, row.policy.title), "tally": row.tally}
        for row in summary.policies
    ]
    with translation.override(language):
        body = render_to_string(
            "manager/email/digest_manager.txt",
            {
                "manager": manager,
                "rows": rows,
                "summary": summary,
                "link": settings.SITE_URL + reverse("manager_overview"),
            },
        )
        subject = gettext("Ukesoversikt for dine enheter: %(percent)s %% har bekreftet") % {
            "percent": summary.total.percent
        }
    return Message(to=manager.email, subject=subject, kind="digest", body=body)
