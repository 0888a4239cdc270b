"""The writes of signing in: link the subject on first sign-in, apply group roles, audit.

Each function is one transaction with its audit event. A refusal writes the audit event and
nothing else.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from .matching import SignInRefused, find_person
from .models import Outcome, SignInConfig, SignInEvent, SignInIdentity


def complete_sign_in(*, config: SignInConfig, claims: dict, ip_address: str | None):
    """The person these validated ID-token claims sign in as. Raises SignInRefused."""
    try:
        with transaction.atomic():
            match = find_person(config, claims)
            person = match.person
            now = timezone.now()
            if match.identity is None:
                # The unique constraints settle a race between two first sign-ins.
                SignInIdentity.objects.create(
                    organisation_id=config.organisation_id,
                    person=person,
                    subject=match.subject,
                    issuer=str(claims.get("iss", "")),
                    first_signed_in_at=now,
                    last_signed_in_at=now,
                )
            else:
                SignInIdentity.objects.filter(pk=match.identity.pk).update(last_signed_in_at=now)
            changed = _apply_group_roles(config, person, claims)
            SignInEvent.objects.create(
                organisation_id=config.organisation_id,
                person=person,
                outcome=Outcome.LINKED if match.identity is None else Outcome.SIGNED_IN,
                subject=match.subject,
                ip_address=ip_address,
                detail={"roles": changed} if changed else {},
            )
    except IntegrityError as exc:
        raise SignInRefused(Outcome.AMBIGUOUS, detail={"race": True}) from exc
    return person


def _apply_group_roles(config: SignInConfig, person, claims: dict) -> dict:
    """Set the editor and whole-organisation roles from the `groups` claim, where configured."""
    groups = claims.get("groups")
    groups = {str(g) for g in groups} if isinstance(groups, list) else set()
    changed = {}
    for field, wanted in (
        ("is_editor", config.editor_group_ids),
        ("sees_whole_organisation", config.manager_group_ids),
    ):
        if not wanted:
            continue
        value = bool(groups & wanted)
        if getattr(person, field) != value:
            setattr(person, field, value)
            changed[field] = value
    if changed:
        person.save(update_fields=list(changed))
    return changed


def record_refusal(
    *,
    config: SignInConfig | None,
    outcome: str,
    ip_address: str | None,
    subject: str = "",
    detail: dict | None = None,
) -> None:
    """The audit event of a sign-in that let nobody in (and the only thing such a sign-in writes)."""
    SignInEvent.objects.create(
        organisation_id=config.organisation_id if config else None,
        outcome=outcome,
        subject=subject,
        ip_address=ip_address,
        detail=detail or {},
    )


def record_sign_out(*, person, organisation_id: int | None, ip_address: str | None) -> None:
    SignInEvent.objects.create(
        organisation_id=organisation_id,
        person=person,
        outcome=Outcome.SIGNED_OUT,
        ip_address=ip_address,
    )
