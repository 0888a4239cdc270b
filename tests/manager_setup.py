"""A small municipality for the manager tests: a unit tree, people, a policy and confirmations."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone

from people.models import Organisation, Person, Unit
from policies.models import Acknowledgement, Policy, PolicyVersion

from .factories import make_organisation, make_person, make_policy, make_unit


def acknowledge(person: Person, version: PolicyVersion, *, days_ago: int = 1) -> Acknowledgement:
    """Evidence that `person` confirmed `version` (written directly: the verb lives elsewhere)."""
    return Acknowledgement.objects.create(
        person=person,
        version=version,
        text_hash=version.text_hash,
        acknowledged_at=timezone.now() - datetime.timedelta(days=days_ago),
    )


@dataclass
class World:
    organisation: Organisation
    health: Unit
    nursing_home: Unit
    ward: Unit
    school: Unit
    policy: Policy
    manager: Person  # manages Helse (and so Sykehjem and Avdeling A)
    school_manager: Person
    employee: Person
    nurse: Person  # in Avdeling A, has confirmed
    carer: Person  # in Sykehjem, has not
    teacher: Person  # in Skole, has confirmed


def make_world(
    name: str = "Testvik kommune", slug: str = "testvik", policy_slug: str = "sosiale-medier"
) -> World:
    organisation = make_organisation(name, slug)
    health = make_unit(organisation, "Helse")
    nursing_home = make_unit(organisation, "Sykehjem", parent=health)
    ward = make_unit(organisation, "Avdeling A", parent=nursing_home)
    school = make_unit(organisation, "Skole")
    policy = make_policy(organisation, title="Bruk av sosiale medier", slug=policy_slug)
    version = policy.versions.get(number=1)
    manager = make_person(organisation, unit=health, manages=[health], first_name="Lise")
    school_manager = make_person(organisation, unit=school, manages=[school])
    nurse = make_person(
        organisation, unit=ward, first_name="Åse", last_name="Ødegård", employee_number="1001"
    )
    carer = make_person(organisation, unit=nursing_home, first_name="Bjørn", last_name="Berg")
    teacher = make_person(organisation, unit=school, first_name="Tor", last_name="Lærer")
    employee = make_person(organisation, unit=school, first_name="Eva", last_name="Ansatt")
    acknowledge(nurse, version)
    acknowledge(teacher, version)
    return World(
        organisation=organisation,
        health=health,
        nursing_home=nursing_home,
        ward=ward,
        school=school,
        policy=policy,
        manager=manager,
        school_manager=school_manager,
        employee=employee,
        nurse=nurse,
        carer=carer,
        teacher=teacher,
    )
