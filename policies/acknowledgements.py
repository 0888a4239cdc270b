"""Confirming that one has read a policy: the only write an employee makes.

An acknowledgement is evidence ("this person confirmed exactly this text at this time"), so it is
append-only in the database (a trigger on the table) and written at most once per person and version
(a unique constraint). The row itself is the audit record of the action; no separate Event is written.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

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


def acknowledge(
    person: Person, version: PolicyVersion, *, shown_hash: str, language: str | None = None
) -> Acknowledgement:
    """Record that `person` has read and understood `version`, whose text had hash `shown_hash`.

    `language` is the målform of the text the person read: the version's own (the default) or
    one of its published translations, whose hash `shown_hash` must then be. Either way the
    confirmation is of the version, and counts exactly as if the original had been read.

    Idempotent: a double click, two tabs or a retried request all return the same row. Refuses a
    version that is no longer current, a text that differs from the current one, and a person
    outside the policy's audience; nothing is written then.
    """
    with transaction.atomic():
        # A share lock on the version row: a publish (or activation) that is superseding it holds
        # a conflicting row lock until it commits, so we wait for it and then read the new status;
        # and no publish can supersede it until this confirmation has committed. Confirmations of
        # the same version share the lock and never wait for each other.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM policies_policyversion WHERE id = %s FOR SHARE", [version.pk]
            )
        version = PolicyVersion.objects.select_related("policy__organisation").get(pk=version.pk)
        policy = version.policy
        current_url = policy.get_absolute_url()
        if policy.is_retired:
            raise AcknowledgementError(
                _("Denne retningslinjen er trukket tilbake og skal ikke bekreftes.")
            )
        if version.status != Status.PUBLISHED:
            raise AcknowledgementError(
                _(
                    "Versjon %(number)s er ikke lenger gjeldende. Les gjeldende versjon og "
                    "bekreft den. Ingenting er registrert."
                )
                % {"number": version.number},
                current_url=current_url,
            )
        language = language or version.language
        if language == version.language:
            expected_hash = version.text_hash
        else:
            expected_hash = (
                version.translations.published()
                .in_language(language)
                .values_list("text_hash", flat=True)
                .first()
            )
        if expected_hash is None or shown_hash != expected_hash:
            raise AcknowledgementError(
                _(
                    "Teksten du leste er ikke den gjeldende teksten. Les gjeldende versjon og "
                    "bekreft den. Ingenting er registrert."
                ),
                current_url=current_url,
            )
        if not Person.objects.in_audience_of(policy).filter(pk=person.pk).exists():
            raise NotInAudience(_("Du er ikke blant dem som skal bekrefte denne retningslinjen."))
        # ON CONFLICT DO NOTHING: a concurrent request for the same person and version waits on the
        # unique index and then inserts nothing; the SELECT below (a new snapshot under READ
        # COMMITTED) sees the winner's row, so both requests return the same receipt.
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO policies_acknowledgement "
                "(person_id, version_id, acknowledged_at, text_hash, language) "
                "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (person_id, version_id) DO NOTHING",
                [person.pk, version.pk, timezone.now(), expected_hash, language],
            )
        return Acknowledgement.objects.select_related("version").get(person=person, version=version)
