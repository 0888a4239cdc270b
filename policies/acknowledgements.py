"""Confirming that one has read a policy: the only write an employee makes.

An acknowledgement is evidence ("this person confirmed exactly this text at this time"), so it is
append-only in the database (a trigger on the table) and written at most once per person and version
(a unique constraint). The row itself is the audit record of the action; no separate Event is written.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone

from people.models import Person

from .models import Acknowledgement, PolicyVersion, Status
from .workflow import WorkflowError


class AcknowledgementError(WorkflowError):
    """A confirmation the rules refuse; the message is Norwegian and meant for the person.

    `current_url` points at the version that may be confirmed instead, when there is one.
    """

    def __init__(self, message: str, *, current_url: str = ""):
        super().__init__(message)
        self.current_url = current_url


class NotInAudience(AcknowledgementError):
    """The person is not among those who must confirm this policy."""


def acknowledge(person: Person, version: PolicyVersion, *, shown_hash: str) -> Acknowledgement:
    """Record that `person` has read and understood `version`, whose text had hash `shown_hash`.

    Idempotent: a double click, two tabs or a retried request all return the same row. Refuses a
    version that is no longer current, a text that differs from the current one, and a person
    outside the policy's audience; nothing is written then.
    """
    with transaction.atomic():
        version = PolicyVersion.objects.select_related("policy__organisation").get(pk=version.pk)
        policy = version.policy
        current_url = policy.get_absolute_url()
        if policy.is_retired:
            raise AcknowledgementError(
                "Denne retningslinjen er trukket tilbake og skal ikke bekreftes."
            )
        if version.status != Status.PUBLISHED:
            raise AcknowledgementError(
                f"Versjon {version.number} er ikke lenger gjeldende. Les gjeldende versjon og "
                "bekreft den. Ingenting er registrert.",
                current_url=current_url,
            )
        if shown_hash != version.text_hash:
            raise AcknowledgementError(
                "Teksten du leste er ikke den gjeldende teksten. Les gjeldende versjon og bekreft "
                "den. Ingenting er registrert.",
                current_url=current_url,
            )
        if not Person.objects.in_audience_of(policy).filter(pk=person.pk).exists():
            raise NotInAudience("Du er ikke blant dem som skal bekrefte denne retningslinjen.")
        # ON CONFLICT DO NOTHING: a concurrent request for the same person and version waits on the
        # unique index and then inserts nothing; the SELECT below (a new snapshot under READ
        # COMMITTED) sees the winner's row, so both requests return the same receipt.
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO policies_acknowledgement (person_id, version_id, acknowledged_at, text_hash) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT (person_id, version_id) DO NOTHING",
                [person.pk, version.pk, timezone.now(), version.text_hash],
            )
        return Acknowledgement.objects.select_related("version").get(person=person, version=version)
