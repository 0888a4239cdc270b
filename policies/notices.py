"""Change notices: a material version tells everyone who must confirm it, the day it takes effect.

Who is told is the one rule of dashboards.missing_people (the policy's audience, less those who have
already confirmed), run over the whole organisation; people who chose "Bare i ukesoversikten" are
left to the weekly digest, which carries the same context. An editorial version tells nobody.

The notices go through the outbox (outbox.mail), in two halves like a manager's reminder run: the
transaction that makes the version current writes one job (policies.notify_change), so a rolled-back
publish sends nothing and the editor does not wait for 20 000 e-mails to be written; the worker then
writes a ChangeNotice row and an e-mail per person in one transaction of its own (`queue_notices`,
idempotent: a job run twice writes nothing twice). The e-mails are sent by the worker, retried while
the mail server is down, and their state ("venter", "sendt", "feilet") is on record for the manager.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, Subquery
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from operations.logging import current_request_id
from outbox.mail import Message, defer_in_transaction, enqueue_emails, header_safe
from people.language import language_codes, person_language
from people.models import Person, Unit

from .dashboards import Scope, missing_people
from .formats import date_text
from .models import ChangeKind, ChangeNotice, Obligation, Policy, PolicyVersion
from .translations import titles_by_language


@dataclass(frozen=True)
class ChangeContext:
    """What every message about a change says: what changed, when, by when, and where to read it."""

    version: PolicyVersion
    previous_number: int | None
    changed_on: datetime.date
    deadline: datetime.date

    @property
    def is_new_policy(self) -> bool:
        return self.previous_number is None

    @property
    def link(self) -> str:
        """What changed (for a new policy: the policy itself), as an absolute address."""
        policy = self.version.policy
        if self.is_new_policy:
            return settings.SITE_URL + policy.get_absolute_url()
        path = reverse("changes", args=[policy.organisation.slug, policy.slug])
        return f"{settings.SITE_URL}{path}?fra={self.previous_number}&til={self.version.number}"

    @property
    def summary(self) -> str:
        """ "endret vesentlig 26.11.2026, alle må bekrefte på nytt innen 26.12.2026"."""
        dates = {"changed": date_text(self.changed_on), "deadline": date_text(self.deadline)}
        if self.is_new_policy:
            return (
                _("ny retningslinje fra %(changed)s, alle må bekrefte innen %(deadline)s") % dates
            )
        return (
            _("endret vesentlig %(changed)s, alle må bekrefte på nytt innen %(deadline)s") % dates
        )

    def as_context(self, language: str) -> dict:
        """The same, as plain values for an e-mail the worker renders later (JSON only), in
        `language` (the recipient's, people.language.person_language), whatever the language of
        the request or job that writes the e-mail."""
        with translation.override(language):
            summary = self.summary
        return {
            "is_new_policy": self.is_new_policy,
            "summary": summary,
            "change_note": self.version.change_note,
            "changed": date_text(self.changed_on),
            "deadline": date_text(self.deadline),
            "link": self.link,
        }

    def in_languages(self) -> dict[str, dict]:
        """`as_context` in every language of the interface, for e-mails to many people: each
        recipient's is picked by their language, so it is written once per language."""
        return {code: self.as_context(code) for code in language_codes()}


def change_context(version: PolicyVersion) -> ChangeContext:
    previous = version.number - 1 if version.number and version.number > 1 else None
    return ChangeContext(
        version=version,
        previous_number=previous,
        changed_on=version.effective_from,
        deadline=version.effective_from + datetime.timedelta(days=version.deadline_days),
    )


def latest_material_version(policy: Policy) -> PolicyVersion | None:
    """The material version everyone must confirm now (the one notices were sent about)."""
    return (
        policy.versions.published()
        .filter(change_kind=ChangeKind.MATERIAL)
        .select_related("policy__organisation")
        .order_by("-number")
        .first()
    )


def latest_change(policy: Policy) -> ChangeContext | None:
    """The context of the material version everyone must confirm now (reminders, digest)."""
    required = latest_material_version(policy)
    return change_context(required) if required else None


def recipients(version: PolicyVersion) -> list[Person]:
    """Those who must confirm `version` now and want to hear of it at once, with an address."""
    policy = version.policy
    ids = missing_people(Scope(organisation_id=policy.organisation_id), policy)
    return list(
        Person.objects.filter(pk__in=ids, is_active=True, change_notices=Person.Notices.AT_ONCE)
        .exclude(email="")
        .order_by("pk")
    )


Leader = tuple[int, str]  # (person id, display name)


def leaders_by_unit(organisation_id: int) -> dict[int, tuple[Leader | None, Leader | None]]:
    """For every unit of a kommune: the nearest active manager at or above it (its own unit's first
    manager by name, else the parent unit's, …), and the next one up the chain who is someone else
    (the leader of that first manager). Two queries, whatever the number of people.
    """
    parents = dict(
        Unit.objects.filter(organisation_id=organisation_id).values_list("pk", "parent_id")
    )
    first_manager: dict[int, Leader] = {}
    rows = (
        Person.objects.filter(managed_units__organisation_id=organisation_id, is_active=True)
        .order_by("last_name", "first_name", "pk")
        .values_list("managed_units", "pk", "first_name", "last_name", "username")
    )
    for unit_id, pk, first, last, username in rows:
        first_manager.setdefault(unit_id, (pk, f"{first} {last}".strip() or username))
    result = {}
    for unit_id in parents:
        chain: list[Leader] = []
        seen: set[int] = set()
        current = unit_id
        while current is not None and current not in seen:
            seen.add(current)
            if current in first_manager:
                chain.append(first_manager[current])
            current = parents.get(current)
        first = chain[0] if chain else None
        second = next((m for m in chain if first and m[0] != first[0]), None)
        result[unit_id] = (first, second)
    return result


def leader_name(person: Person, leaders: dict) -> str:
    """The name of the person's leader from `leaders_by_unit`; "" when they have none."""
    first, second = leaders.get(person.unit_id, (None, None))
    if first is not None and first[0] != person.pk:
        return first[1]
    return second[1] if second is not None else ""


@dataclass(frozen=True)
class NoticeText:
    """What a notice says in one language whoever gets it: its subject, the policy's title in that
    form (policies.translations.titles_by_language) and the change (ChangeContext.as_context)."""

    subject: str
    title: str
    change: dict


def notice_texts(context: ChangeContext) -> dict[str, NoticeText]:
    """The language-bound parts of a notice, written once per language of the interface."""
    policy = context.version.policy
    titles = titles_by_language([policy])[policy.pk]
    texts = {}
    for code in language_codes():
        with translation.override(code):
            values = {"title": header_safe(titles[code]), "deadline": date_text(context.deadline)}
            if context.is_new_policy:
                subject = _("Ny retningslinje: «%(title)s» – les og bekreft innen %(deadline)s")
            else:
                subject = _("Endret retningslinje: «%(title)s» – les og bekreft innen %(deadline)s")
            texts[code] = NoticeText(
                subject=subject % values, title=titles[code], change=context.as_context(code)
            )
    return texts


def notice_message(
    person: Person, context: ChangeContext, texts: dict[str, NoticeText], leaders: dict
) -> Message:
    """The notice to one person, in their language, rendered by the worker from plain values."""
    policy = context.version.policy
    language = person_language(person.language, policy.organisation.language)
    text = texts[language]
    return Message(
        to=person.email,
        subject=text.subject,
        kind="notice",
        template="employee/email/change_notice.txt",
        context={
            "first_name": person.first_name or person.username,
            "policy_title": text.title,
            "organisation_name": policy.organisation.name,
            "change": text.change,
            "leader_name": leader_name(person, leaders),
            "settings_link": settings.SITE_URL + reverse("me") + "#varsler",
        },
        # The same version never notifies the same person twice, whatever calls this again.
        key=f"notice:{context.version.pk}:{person.pk}",
        language=language,
    )


def tells_anyone(version: PolicyVersion) -> bool:
    """Whether `version`, becoming current today, is told to those who must confirm it: a material
    version is; an editorial one is not, nor a back-dated one (history being imported took effect
    long ago)."""
    return (
        version.change_kind == ChangeKind.MATERIAL
        and version.effective_from >= timezone.localdate()
    )


def notify_change(version: PolicyVersion) -> bool:
    """Queue the notices of a material `version` that just became current: one job, which the
    worker expands (`queue_notices`).

    Call inside the transaction that made it current: the job commits or rolls back with it.
    Returns whether anyone is to be told; an editorial or back-dated version tells nobody.
    """
    from .tasks import notify_change as notify_change_job

    if not tells_anyone(version):
        return False
    defer_in_transaction(
        notify_change_job, {"version_id": version.pk, "request_id": current_request_id()}
    )
    return True


def queue_notices(version_id: int) -> int:
    """The worker's half of `notify_change`: a notice (ChangeNotice row and outbox e-mail) to
    everyone who must confirm the version now and wants to hear at once, in one transaction.

    Idempotent: the e-mails' keys and the notices' (person, version) uniqueness make a job run
    again write nothing twice. A version no longer the one to confirm (a newer material version
    came first) tells nobody: its successor's notices say what to read. Returns how many are queued.
    """
    with transaction.atomic():
        version = (
            PolicyVersion.objects.select_related("policy__organisation")
            .filter(pk=version_id)
            .first()
        )
        if version is None or latest_material_version(version.policy) != version:
            return 0
        context = change_context(version)
        leaders = leaders_by_unit(version.policy.organisation_id)
        people = recipients(version)
        texts = notice_texts(context)
        emails = enqueue_emails(
            notice_message(person, context, texts, leaders) for person in people
        )
        by_address = {email.key: email for email in emails}
        ChangeNotice.objects.bulk_create(
            [
                ChangeNotice(
                    person=person,
                    version=version,
                    email=by_address.get(f"notice:{version.pk}:{person.pk}"),
                )
                for person in people
            ],
            ignore_conflicts=True,
            batch_size=5000,
        )
    return len(emails)


@dataclass(frozen=True)
class NoticeState:
    """Where the notice of the latest material change to one person stands."""

    status: str

    @property
    def label(self) -> str:
        labels = {"venter": _("Venter"), "sendt": _("Sendt"), "feilet": _("Feilet")}
        return labels.get(self.status, "")


def notice_states(*, policy: Policy, person_ids: list[int]) -> dict[int, NoticeState]:
    """The notice of `policy`'s latest material version to each of `person_ids`, and its e-mail's
    state, in one query (the version is a subquery)."""
    latest = (
        policy.versions.published()
        .filter(change_kind=ChangeKind.MATERIAL)
        .order_by("-number")
        .values("pk")[:1]
    )
    rows = ChangeNotice.objects.filter(
        version_id=Subquery(latest), person_id__in=person_ids
    ).values_list("person_id", "email__status")
    return {pid: NoticeState(status=status or "sendt") for pid, status in rows}


@dataclass(frozen=True)
class Impact:
    """What a material version of a policy in force would mean, said before publishing it."""

    people: int
    by_email: int

    @property
    def in_digest(self) -> int:
        return self.people - self.by_email


def material_impact(policy: Policy) -> Impact | None:
    """How many must confirm again after a material change, and how many of them hear of it by
    e-mail at once (the rest in the weekly digest); None for a policy not yet in force. One query.
    """
    if not policy.versions.current().exists():
        return None
    wants_email = Q(person__change_notices=Person.Notices.AT_ONCE) & ~Q(person__email="")
    counts = Obligation.objects.filter(policy=policy).aggregate(
        people=Count("person_id"), by_email=Count("person_id", filter=wants_email)
    )
    return Impact(people=counts["people"], by_email=counts["by_email"])


def choose_notices(person: Person, choice: str) -> bool:
    """Record how `person` wants to hear of material changes; False for an unknown choice."""
    if choice not in Person.Notices.values:
        return False
    Person.objects.filter(pk=person.pk).update(change_notices=choice)
    person.change_notices = choice
    return True
