"""Who is signing in? The person the HR import created, found by the organisation's chosen claim
the first time and by the provider's immutable subject from then on. Read-only: nobody is ever
created by signing in.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model

from .models import MatchOn, Outcome, SignInConfig, SignInIdentity


class SignInRefused(Exception):
    """This sign-in must not let anyone in; `outcome` says why (an Outcome value)."""

    def __init__(self, outcome: str, *, subject: str = "", detail: dict | None = None):
        super().__init__(outcome)
        self.outcome = outcome
        self.subject = subject
        self.detail = detail or {}


def subject_of(claims: dict) -> str:
    """The provider's immutable identifier of the person.

    Entra ID: tenant id + object id (the same in every application of the tenant, unchanged when
    the person's name or UPN changes). Any other provider: its `sub`, with its issuer.
    """
    if claims.get("tid") and claims.get("oid"):
        return f"{claims['tid']}/{claims['oid']}"
    return f"{claims.get('iss', '')}#{claims['sub']}"


@dataclass(frozen=True)
class Match:
    person: object
    identity: SignInIdentity | None  # None on the first sign-in: the link is still to be made
    subject: str


def find_person(config: SignInConfig, claims: dict) -> Match:
    """The active person these validated claims belong to, or SignInRefused."""
    subject = subject_of(claims)
    identity = (
        SignInIdentity.objects.select_related("person")
        .filter(organisation_id=config.organisation_id, subject=subject)
        .first()
    )
    if identity is not None:
        if not identity.person.is_active:
            raise SignInRefused(Outcome.INACTIVE, subject=subject)
        return Match(identity.person, identity, subject)

    value = claims.get(config.match_claim)
    if not isinstance(value, str) or not value.strip():
        raise SignInRefused(
            Outcome.MISSING_CLAIM, subject=subject, detail={"claim": config.match_claim}
        )
    value = value.strip()
    people = get_user_model().objects.filter(organisation_id=config.organisation_id)
    if config.match_on == MatchOn.EMPLOYEE_NUMBER:
        people = people.filter(employee_number=value)
    else:
        people = people.filter(email__iexact=value)
    candidates = list(people.order_by("pk")[:3])
    active = [person for person in candidates if person.is_active]
    detail = {"claim": config.match_claim, "value": value}
    if not candidates:
        raise SignInRefused(Outcome.UNKNOWN, subject=subject, detail=detail)
    if not active:
        raise SignInRefused(Outcome.INACTIVE, subject=subject, detail=detail)
    if len(active) > 1:
        raise SignInRefused(Outcome.AMBIGUOUS, subject=subject, detail=detail)
    person = active[0]
    # Already linked to another subject: someone else's account at the provider claims this
    # person (a reused e-mail address, say). Refused until an administrator unlinks the old one.
    if SignInIdentity.objects.filter(
        organisation_id=config.organisation_id, person=person
    ).exists():
        raise SignInRefused(Outcome.AMBIGUOUS, subject=subject, detail={**detail, "linked": True})
    return Match(person, None, subject)
