import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from people.models import Organisation
from policies.models import Acknowledgement, Event, PolicyVersion, Status
from policies.workflow import create_draft

from .factories import make_organisation, make_person, make_policy, make_unit, publish_version

pytestmark = pytest.mark.django_db

# A trigger's RAISE EXCEPTION reaches Django as a DatabaseError subclass (which one depends on its
# ERRCODE); what matters is that PostgreSQL refused and nothing changed.
DatabaseRefusal = DatabaseError


def test_version_numbers_are_unique_per_policy():
    policy = make_policy(make_organisation())
    draft = create_draft(policy, by=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        PolicyVersion.objects.filter(pk=draft.pk).update(
            number=1, status=Status.SUPERSEDED, published_at="2020-01-01T00:00Z",
            effective_from="2020-01-01", change_kind="material", text_hash="x",
        )  # fmt: skip


def test_only_one_current_version_per_policy():
    policy = make_policy(make_organisation())
    publish_version(policy, body="Ny tekst")
    assert policy.versions.current().count() == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        policy.versions.filter(number=1).update(status=Status.PUBLISHED)


def test_one_open_draft_per_policy():
    policy = make_policy(make_organisation())
    first = create_draft(policy, by=None)
    assert create_draft(policy, by=None) == first
    with pytest.raises(IntegrityError), transaction.atomic():
        PolicyVersion.objects.create(policy=policy, title="To", status=Status.DRAFT)


def test_database_refuses_changing_a_published_version_text():
    policy = make_policy(make_organisation())
    version = policy.versions.get(number=1)
    with (
        pytest.raises(DatabaseRefusal, match="cannot be changed"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE policies_policyversion SET body = 'forfalsket' WHERE id = %s", [version.pk]
        )
    version.refresh_from_db()
    assert "forfalsket" not in version.body


def test_database_refuses_reopening_a_published_version_as_draft():
    version = make_policy(make_organisation()).versions.get(number=1)
    with pytest.raises(DatabaseRefusal), transaction.atomic():
        PolicyVersion.objects.filter(pk=version.pk).update(status=Status.DRAFT, number=None)


def test_database_refuses_deleting_a_published_version():
    version = make_policy(make_organisation()).versions.get(number=1)
    with pytest.raises(DatabaseRefusal), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM policies_policyversion WHERE id = %s", [version.pk])


def test_superseding_a_version_is_allowed_but_reviving_it_is_not():
    policy = make_policy(make_organisation())
    publish_version(policy, body="Versjon to")
    assert policy.versions.get(number=1).status == Status.SUPERSEDED
    policy.versions.filter(number=2).update(status=Status.SUPERSEDED)
    with pytest.raises(DatabaseRefusal), transaction.atomic():
        policy.versions.filter(number=1).update(status=Status.PUBLISHED)


def test_acknowledgements_are_append_only():
    organisation = make_organisation()
    person = make_person(organisation)
    version = make_policy(organisation).versions.get(number=1)
    ack = Acknowledgement.objects.create(
        person=person, version=version, text_hash=version.text_hash
    )
    for sql in (
        "UPDATE policies_acknowledgement SET text_hash = 'x' WHERE id = %s",
        "DELETE FROM policies_acknowledgement WHERE id = %s",
    ):
        with pytest.raises(DatabaseRefusal), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [ack.pk])
    assert Acknowledgement.objects.filter(pk=ack.pk, text_hash=version.text_hash).exists()


def test_audit_events_are_append_only():
    policy = make_policy(make_organisation())
    event = Event.objects.filter(policy=policy).first()
    assert event is not None and event.verb == "published"
    with pytest.raises(DatabaseRefusal), transaction.atomic():
        Event.objects.filter(pk=event.pk).delete()


def test_organisation_cannot_take_a_reserved_address():
    with pytest.raises(IntegrityError), transaction.atomic():
        Organisation.objects.create(name="Redaksjon", slug="redaksjon")


def test_unit_subtree_includes_sub_units_and_excludes_siblings():
    organisation = make_organisation()
    top = make_unit(organisation, "Helse")
    child = make_unit(organisation, "Sykehjem", parent=top)
    grandchild = make_unit(organisation, "Avdeling A", parent=child)
    sibling = make_unit(organisation, "Skole")
    other = make_unit(make_organisation(), "Helse")
    subtree = set(type(top).objects.subtree_of([child]))
    assert subtree == {child, grandchild}
    assert sibling not in type(top).objects.subtree_of([top])
    assert other not in type(top).objects.subtree_of([top])


def test_audience_resolves_whole_organisation_units_and_elected_officials():
    from policies.models import Person, Policy

    organisation = make_organisation()
    health = make_unit(organisation, "Helse")
    home_care = make_unit(organisation, "Hjemmesykepleie", parent=health)
    school = make_unit(organisation, "Skole")
    nurse = make_person(unit=home_care)
    teacher = make_person(unit=school)
    politician = make_person(organisation, is_elected_official=True)
    leaver = make_person(unit=home_care, is_active=False)
    outsider = make_person(unit=make_unit(make_organisation()))

    everyone = make_policy(organisation, audience_all=True)
    health_only = make_policy(organisation, audience_all=False)
    health_only.audience_units.set([health])
    elected_too = make_policy(organisation, audience_all=True, audience_elected=True)

    assert set(Person.objects.in_audience_of(everyone)) == {nurse, teacher}
    assert set(Person.objects.in_audience_of(health_only)) == {nurse}
    assert set(Person.objects.in_audience_of(elected_too)) == {nurse, teacher, politician}
    for person in (nurse, teacher, politician, leaver, outsider):
        applicable = set(Policy.objects.applicable_to(person))
        expected = {
            p
            for p in (everyone, health_only, elected_too)
            if person in Person.objects.in_audience_of(p)
        }
        assert applicable == expected, person
