"""Person-side reads: which policies one person must confirm, and where they stand.

Compliance is computed, never stored: a person is compliant for a policy when they have confirmed a
version at least as new as its latest *material* version among those that have been in force.
An editorial version therefore never asks anyone to confirm again.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Prefetch
from django.utils import timezone

from people.models import Person

from .models import Acknowledgement, ChangeKind, Policy, PolicyVersion, Status


class State:
    CONFIRMED = "confirmed"
    UNCONFIRMED = "unconfirmed"
    RECONFIRM = "reconfirm"


STATE_LABELS = {
    State.CONFIRMED: "Bekreftet",
    State.UNCONFIRMED: "Ikke bekreftet",
    State.RECONFIRM: "Må bekreftes på nytt",
}


@dataclass(frozen=True)
class Obligation:
    """One policy a person must confirm, and where they stand with it."""

    policy: Policy
    current: PolicyVersion
    required: PolicyVersion  # the latest material version: confirming it or newer is enough
    required_since: datetime.date
    deadline: datetime.date
    last_acknowledgement: Acknowledgement | None
    today: datetime.date

    @property
    def state(self) -> str:
        ack = self.last_acknowledgement
        if ack is not None and ack.version.number >= self.required.number:
            return State.CONFIRMED
        return State.RECONFIRM if ack is not None else State.UNCONFIRMED

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]

    @property
    def is_confirmed(self) -> bool:
        return self.state == State.CONFIRMED

    @property
    def is_overdue(self) -> bool:
        return not self.is_confirmed and self.today > self.deadline

    @property
    def current_acknowledged(self) -> bool:
        ack = self.last_acknowledgement
        return ack is not None and ack.version_id == self.current.pk

    @property
    def changed_since_confirmed(self) -> bool:
        """True when a newer version than the one last confirmed is in force."""
        ack = self.last_acknowledgement
        return ack is not None and ack.version.number < self.current.number

    @property
    def changes_url(self) -> str:
        ack = self.last_acknowledgement
        if ack is None:
            return ""
        return (
            f"{self.policy.get_absolute_url()}endringer/"
            f"?fra={ack.version.number}&til={self.current.number}"
        )


def _start_for(person: Person) -> datetime.date:
    if person.unit_since:
        return person.unit_since
    return timezone.localdate(person.date_joined)


def obligations_for(
    person: Person, *, policies=None, today: datetime.date | None = None
) -> list[Obligation]:
    """The policies `person` must confirm, with state, dates and their last confirmation.

    A fixed number of queries whatever the number of policies: the applicable policies with their
    versions (2), and the person's acknowledgements of them (1). `policies` narrows the set.
    """
    if not person.is_authenticated:
        return []
    today = today or timezone.localdate()
    versions = (
        PolicyVersion.objects.published()
        .only("pk", "policy_id", "number", "status", "change_kind", "effective_from",
              "deadline_days", "title", "text_hash")
        .order_by("-number")
    )  # fmt: skip
    applicable = Policy.objects.applicable_to(person).select_related("organisation")
    if policies is not None:
        applicable = applicable.filter(pk__in=[p.pk for p in policies])
    applicable = applicable.prefetch_related(
        Prefetch("versions", queryset=versions, to_attr="in_force")
    ).order_by("organisation__name", "title")
    applicable = [p for p in applicable if p.in_force]
    if not applicable:
        return []
    acks = (
        Acknowledgement.objects.of(person)
        .filter(version__policy__in=[p.pk for p in applicable])
        .select_related("version")
        .only("pk", "acknowledged_at", "text_hash", "person_id", "version_id",
              "version__number", "version__policy_id", "version__title")
        .order_by("-version__number")
    )  # fmt: skip
    latest_ack: dict[int, Acknowledgement] = {}
    for ack in acks:
        latest_ack.setdefault(ack.version.policy_id, ack)
    start = _start_for(person)
    obligations = []
    for policy in applicable:
        current = next((v for v in policy.in_force if v.status == Status.PUBLISHED), None)
        if current is None:
            continue
        required = next(
            (v for v in policy.in_force if v.change_kind == ChangeKind.MATERIAL),
            policy.in_force[-1],
        )
        required_since = max(required.effective_from, start)
        obligations.append(
            Obligation(
                policy=policy,
                current=current,
                required=required,
                required_since=required_since,
                deadline=required_since + datetime.timedelta(days=required.deadline_days),
                last_acknowledgement=latest_ack.get(policy.pk),
                today=today,
            )
        )
    return obligations


def obligation_for(person: Person, policy: Policy) -> Obligation | None:
    """The obligation for one policy, or None when the person is not in its audience."""
    found = obligations_for(person, policies=[policy])
    return found[0] if found else None


def recent_material_changes(policies, *, today: datetime.date | None = None, days: int = 30):
    """For each policy, its latest material version after the first, when it explains the
    managers' figures now: from the day it took effect until `days` after everyone's deadline.

    One query. Read from the versions themselves, so that a manager is told why a policy's share
    fell back ("endret vesentlig 26.11.2026, alle må bekrefte på nytt innen 26.12.2026").
    """
    from .notices import change_context

    today = today or timezone.localdate()
    ids = [p.pk for p in policies]
    if not ids:
        return []
    latest = (
        PolicyVersion.objects.published()
        .filter(policy_id__in=ids, change_kind=ChangeKind.MATERIAL, number__gt=1)
        .select_related("policy__organisation")
        .order_by("policy_id", "-number")
        .distinct("policy_id")
    )
    changes = [change_context(v) for v in latest]
    return [
        c for c in changes if c.changed_on <= today <= c.deadline + datetime.timedelta(days=days)
    ]
