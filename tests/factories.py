"""Plain factory functions for tests: each makes one valid object with sensible defaults."""

from __future__ import annotations

import datetime
import itertools

from django.utils import timezone

from people.models import Organisation, Person, Unit
from people.units import create_unit
from policies.models import ChangeKind, Policy, PolicyVersion, Visibility
from policies.workflow import create_draft, publish

_seq = itertools.count(1)


def make_organisation(name: str | None = None, slug: str | None = None) -> Organisation:
    n = next(_seq)
    return Organisation.objects.create(
        name=name or f"Testkommune {n}", slug=slug or f"testkommune-{n}"
    )


def make_unit(
    organisation: Organisation, name: str | None = None, parent: Unit | None = None
) -> Unit:
    return create_unit(organisation, name=name or f"Enhet {next(_seq)}", parent=parent)


def make_person(
    organisation: Organisation | None = None,
    *,
    unit: Unit | None = None,
    username: str | None = None,
    password: str = "hemmelig-passord-1",
    manages: list[Unit] | tuple = (),
    **fields,
) -> Person:
    n = next(_seq)
    if organisation is None and unit is not None:
        organisation = unit.organisation
    person = Person(
        username=username or f"person{n}",
        first_name=fields.pop("first_name", "Test"),
        last_name=fields.pop("last_name", f"Person {n}"),
        email=fields.pop("email", f"person{n}@example.invalid"),
        organisation=organisation,
        unit=unit,
        **fields,
    )
    person.set_password(password)
    person.save()
    if manages:
        person.managed_units.set(manages)
    return person


def make_policy(
    organisation: Organisation,
    *,
    title: str = "Retningslinjer for testing",
    slug: str | None = None,
    body: str = "## Formål\n\nDette er en test.\n\n## Regler\n\n- Vær saklig\n- Vær høflig\n",
    visibility: str = Visibility.PUBLIC,
    published: bool = True,
    effective_from: datetime.date | None = None,
    by: Person | None = None,
    **fields,
) -> Policy:
    """A policy with one published version (or none, with published=False)."""
    policy = Policy.objects.create(
        organisation=organisation,
        slug=slug or f"retningslinje-{next(_seq)}",
        title=title,
        visibility=visibility,
        **fields,
    )
    if published:
        publish_version(
            policy,
            body=body,
            title=title,
            effective_from=effective_from or timezone.localdate() - datetime.timedelta(days=30),
            by=by,
        )
    return policy


def publish_version(
    policy: Policy,
    *,
    body: str,
    title: str | None = None,
    change_kind: str = ChangeKind.MATERIAL,
    change_note: str = "Endret i test.",
    effective_from: datetime.date | None = None,
    by: Person | None = None,
) -> PolicyVersion:
    """Publish a new version of `policy` through the real workflow."""
    draft = create_draft(policy, by=by, body=body)
    if title:
        draft.title = title
        draft.save(update_fields=["title"])
    return publish(
        draft,
        by=by,
        change_kind=change_kind,
        change_note=change_note,
        effective_from=effective_from or timezone.localdate(),
    )


def make_signin_config(organisation: Organisation, issuer: str, **fields):
    """Sign-in for `organisation` through the provider at `issuer`, matching by e-mail."""
    from signin.models import SignInConfig

    secret = fields.pop("secret", "test-hemmelighet")
    config = SignInConfig(
        organisation=organisation,
        issuer=issuer,
        client_id=fields.pop("client_id", f"handboka-{organisation.slug}"),
        match_on=fields.pop("match_on", "email"),
        match_claim=fields.pop("match_claim", "email"),
        support_contact=fields.pop("support_contact", "IT-brukerstøtte, tlf. 55 00 00 00"),
        **fields,
    )
    config.set_client_secret(secret)
    config.save()
    return config
