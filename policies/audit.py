"""The audit trail's one write: an Event recorded in the transaction of the change it records.

Every verb module (workflow, authoring, reminders, the HR import, the manager's exports) calls
`record_event` inside its own transaction, so a change and its event commit or roll back together.
"""

from __future__ import annotations

from django.db import transaction

from people.models import Organisation, Person, Unit

from .models import Event, EventVerb, Policy, PolicyVersion
from .pagecache import forget_policy_page
from .search import forget_plans


def record_event(
    verb: str,
    *,
    policy: Policy | None = None,
    organisation: Organisation | None = None,
    by: Person | None,
    version: PolicyVersion | None = None,
    **detail,
) -> Event:
    """Write one audit event about `policy` (or, without one, about `organisation`).

    Call it inside the transaction of the change it records. Every change a reader could see writes
    an event, so this is also where the anonymous page cache learns, after commit, that the
    policy's page may have changed.
    """
    if policy is None and organisation is None:
        raise ValueError("An event belongs to a policy or an organisation.")
    if policy is not None:
        transaction.on_commit(lambda: forget_policy_page(policy))
        # A published text may bring words that a search plan splits compounds into.
        forget_plans()
        transaction.on_commit(forget_plans)
    return Event.objects.create(
        organisation_id=policy.organisation_id if policy is not None else organisation.pk,
        actor=by,
        verb=verb,
        policy=policy,
        version=version,
        detail=detail,
    )


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
