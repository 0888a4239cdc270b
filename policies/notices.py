"""Change notices: a material version tells everyone who must confirm it, the day it takes effect.

Who is told is the one rule of dashboards.missing_people (the policy's audience, less those who have
already confirmed), run over the whole organisation; people who chose "Bare i ukesoversikten" are
left to the weekly digest, which carries the same context. An editorial version tells nobody.

The notices are written inside the transaction that makes the version current, so a rolled-back
publish sends nothing; they are handed to the mail system after commit.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from people.models import Person

from .dashboards import Scope, missing_people
from .formats import date_text
from .models import ChangeKind, PolicyVersion


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
        if self.is_new_policy:
            return (
                f"ny retningslinje fra {date_text(self.changed_on)}, alle må bekrefte innen "
                f"{date_text(self.deadline)}"
            )
        return (
            f"endret vesentlig {date_text(self.changed_on)}, alle må bekrefte på nytt innen "
            f"{date_text(self.deadline)}"
        )


def change_context(version: PolicyVersion) -> ChangeContext:
    previous = version.number - 1 if version.number and version.number > 1 else None
    return ChangeContext(
        version=version,
        previous_number=previous,
        changed_on=version.effective_from,
        deadline=version.effective_from + datetime.timedelta(days=version.deadline_days),
    )


def recipients(version: PolicyVersion) -> list[Person]:
    """Those who must confirm `version` now and want to hear of it at once, with an address."""
    policy = version.policy
    ids = missing_people(Scope(organisation_id=policy.organisation_id), policy)
    return list(
        Person.objects.filter(pk__in=ids, is_active=True, change_notices=Person.Notices.AT_ONCE)
        .exclude(email="")
        .select_related("unit")
        .order_by("pk")
    )


def leader_of(person: Person, _found: dict | None = None) -> Person | None:
    """The nearest manager above the person (their unit's, else the parent unit's …), if any.

    `_found` remembers the answer per unit across one batch of messages.
    """
    found = {} if _found is None else _found
    unit = person.unit
    while unit is not None:
        if unit.pk not in found:
            found[unit.pk] = unit.managers.order_by("last_name", "first_name", "pk").first()
        manager = found[unit.pk]
        if manager is not None and manager.pk != person.pk:
            return manager
        unit = unit.parent
    return None


def notice_message(
    person: Person, context: ChangeContext, leaders: dict | None = None
) -> EmailMessage:
    policy = context.version.policy
    body = render_to_string(
        "employee/email/change_notice.txt",
        {
            "person": person,
            "change": context,
            "policy": policy,
            "leader": leader_of(person, leaders),
            "site_url": settings.SITE_URL,
        },
    )
    verb = "Ny retningslinje" if context.is_new_policy else "Endret retningslinje"
    return EmailMessage(
        subject=f"{verb}: «{policy.title}» – les og bekreft innen {date_text(context.deadline)}",
        body=body,
        to=[person.email],
    )


def notify_change(version: PolicyVersion) -> int:
    """Tell everyone who must confirm a material `version` that has just become current.

    Call inside the transaction that made it current. Returns how many are told; an editorial
    version tells nobody.
    """
    if version.change_kind != ChangeKind.MATERIAL:
        return 0
    # A back-dated version (history being imported) took effect long ago: nobody is told now.
    if version.effective_from < timezone.localdate():
        return 0
    context = change_context(version)
    leaders: dict = {}
    messages = [notice_message(person, context, leaders) for person in recipients(version)]
    if messages:
        transaction.on_commit(lambda: _send(messages), robust=True)
    return len(messages)


def _send(messages: list[EmailMessage]) -> None:
    # Until issue-10's outbox is on main, notices go out after commit like reminders do.
    from .reminders import _send as send_after_commit

    send_after_commit(messages)


def choose_notices(person: Person, choice: str) -> bool:
    """Record how `person` wants to hear of material changes; False for an unknown choice."""
    if choice not in Person.Notices.values:
        return False
    Person.objects.filter(pk=person.pk).update(change_notices=choice)
    person.change_notices = choice
    return True
