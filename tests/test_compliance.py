import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from people.models import Person
from policies.acknowledgements import acknowledge
from policies.compliance import State, obligation_for, obligations_for
from policies.models import Acknowledgement, ChangeKind, Obligation, Policy
from policies.workflow import retire

from .factories import make_organisation, make_person, make_policy, make_unit, publish_version

pytestmark = pytest.mark.django_db


def confirm(person, policy):
    version = policy.versions.current().get()
    return acknowledge(person, version, shown_hash=version.text_hash)


def test_moskenes_editorial_version_2_does_not_ask_people_who_confirmed_version_1_again(handbook):
    person = Person.objects.get(username="ansatt.moskenes")
    policy = Policy.objects.get(organisation__slug="moskenes", slug="sosiale-medier")
    v1 = policy.versions.get(number=1)
    # Version 1 was current when this person confirmed it; record it as it would have been then.
    Acknowledgement.objects.create(person=person, version=v1, text_hash=v1.text_hash)
    obligation = obligation_for(person, policy)
    assert obligation.current.number == 2
    assert obligation.required.number == 1
    assert obligation.state == State.CONFIRMED
    assert obligation.changed_since_confirmed
    assert obligation.changes_url == "/moskenes/sosiale-medier/endringer/?fra=1&til=2"


def test_a_material_version_3_asks_them_again(handbook):
    person = Person.objects.get(username="ansatt.moskenes")
    policy = Policy.objects.get(organisation__slug="moskenes", slug="sosiale-medier")
    v1 = policy.versions.get(number=1)
    Acknowledgement.objects.create(person=person, version=v1, text_hash=v1.text_hash)
    publish_version(policy, body="## Nytt\n\nNye regler.\n", change_kind=ChangeKind.MATERIAL)
    obligation = obligation_for(person, policy)
    assert obligation.required.number == 3
    assert obligation.state == State.RECONFIRM
    assert obligation.state_label == "Må bekreftes på nytt"
    confirm(person, policy)
    assert obligation_for(person, policy).state == State.CONFIRMED


def test_someone_who_never_confirmed_is_unconfirmed():
    org = make_organisation()
    person = make_person(org)
    policy = make_policy(org)
    obligation = obligation_for(person, policy)
    assert obligation.state == State.UNCONFIRMED
    assert obligation.last_acknowledgement is None


def test_required_since_is_the_later_of_the_material_version_and_joining_the_unit():
    org = make_organisation()
    unit = make_unit(org)
    effective = timezone.localdate() - datetime.timedelta(days=100)
    policy = make_policy(org, effective_from=effective)
    veteran = make_person(org, unit=unit, unit_since=effective - datetime.timedelta(days=400))
    newcomer = make_person(
        org, unit=unit, unit_since=timezone.localdate() - datetime.timedelta(days=3)
    )
    old = obligation_for(veteran, policy)
    assert old.required_since == effective
    assert old.deadline == effective + datetime.timedelta(days=30)
    assert old.is_overdue
    new = obligation_for(newcomer, policy)
    assert new.required_since == newcomer.unit_since
    assert not new.is_overdue


def test_an_editorial_change_keeps_the_deadline_of_the_material_version():
    org = make_organisation()
    person = make_person(org, unit_since=datetime.date(2000, 1, 1))
    effective = timezone.localdate() - datetime.timedelta(days=10)
    policy = make_policy(org, effective_from=effective)
    publish_version(policy, body="## Formål\n\nRettet.\n", change_kind=ChangeKind.EDITORIAL)
    assert obligation_for(person, policy).required_since == effective


def test_policies_outside_the_audience_are_not_obligations():
    org = make_organisation()
    unit, other = make_unit(org), make_unit(org)
    policy = make_policy(org, audience_all=False)
    policy.audience_units.set([unit])
    make_policy(make_organisation())
    outsider = make_person(org, unit=other)
    assert obligations_for(outsider) == []
    assert obligation_for(outsider, policy) is None
    insider = make_person(org, unit=unit)
    assert [o.policy for o in obligations_for(insider)] == [policy]


def test_retired_and_unpublished_policies_are_not_obligations():
    org = make_organisation()
    person = make_person(org)
    retire(make_policy(org), by=None)
    make_policy(org, published=False)
    assert obligations_for(person) == []


def test_obligations_take_a_fixed_number_of_queries_whatever_the_number_of_policies():
    org = make_organisation()
    unit = make_unit(org)
    person = make_person(org, unit=unit)
    for _ in range(2):
        confirm(person, make_policy(org))
    person = Person.objects.get(pk=person.pk)
    with CaptureQueriesContext(connection) as few:
        assert len(obligations_for(person)) == 2
    for _ in range(8):
        policy = make_policy(org)
        publish_version(policy, body="## Ny\n\nTekst.\n")
        confirm(person, policy)
    person = Person.objects.get(pk=person.pk)
    with CaptureQueriesContext(connection) as many:
        assert len(obligations_for(person)) == 10
    assert len(many) == len(few) <= 4


def test_the_policy_pages_obligation_is_the_views_row_for_every_person_and_policy(handbook):
    # obligation_for reads through policies_obligation_of (a plan kept per connection): the same
    # row as the view itself, field for field, and None outside the audience.
    fields = [f.attname for f in Obligation._meta.concrete_fields]
    policies = list(Policy.objects.all())
    checked = 0
    for person in Person.objects.filter(is_active=True):
        for policy in policies:
            found = obligation_for(person, policy)
            row = Obligation.objects.filter(person=person, policy=policy).values(*fields).first()
            if row is None:
                assert found is None
            else:
                assert {f: getattr(found, f) for f in fields} == row
                checked += 1
    assert checked > 5
