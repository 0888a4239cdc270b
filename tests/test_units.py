"""The unit tree: paths kept right whoever writes, sub-units following a move, and the admin
refusing what would mix two kommuner (people/units.py, people/admin.py, the triggers on Unit)."""

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from people.models import Organisation, Person, Unit
from people.units import UnitError, move_unit
from policies import dashboards
from policies.access import manager_scope, visible_units

from .factories import make_organisation, make_person, make_policy, make_unit

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    admin = Person.objects.create_superuser("rot", "rot@example.invalid", "hemmelig-passord-1")
    client.force_login(admin)
    return client


def _tree():
    org = make_organisation()
    health = make_unit(org, "Helse")
    home = make_unit(org, "Sykehjem", parent=health)
    ward = make_unit(org, "Avdeling A", parent=home)
    school = make_unit(org, "Skole")
    return org, health, home, ward, school


# --- Paths --------------------------------------------------------------------------------------


def test_a_unit_added_in_the_admin_gets_its_path_below_its_parent(admin_client):
    org, health, *_ = _tree()
    response = admin_client.post(
        reverse("admin:people_unit_add"),
        {"organisation": org.pk, "parent": health.pk, "name": "Legevakt"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    unit = Unit.objects.get(name="Legevakt")
    assert unit.path == f"{health.path}{unit.pk}/"


def test_a_unit_moved_in_the_admin_takes_its_sub_units_along(admin_client):
    org, health, home, ward, school = _tree()
    response = admin_client.post(
        reverse("admin:people_unit_change", args=[home.pk]),
        {"organisation": org.pk, "parent": school.pk, "name": home.name},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    home.refresh_from_db()
    ward.refresh_from_db()
    assert home.path == f"{school.path}{home.pk}/"
    assert ward.path == f"{school.path}{home.pk}/{ward.pk}/"


def test_a_manager_of_a_unit_made_in_the_admin_sees_only_that_unit(admin_client):
    org, health, home, ward, school = _tree()
    admin_client.post(
        reverse("admin:people_unit_add"), {"organisation": org.pk, "parent": "", "name": "Kultur"}
    )
    culture = Unit.objects.get(name="Kultur")
    manager = make_person(org, unit=culture, manages=[culture])
    make_person(org, unit=ward)
    make_policy(org)
    assert set(visible_units(manager)) == {culture}
    assert dashboards.overview(manager_scope(manager), []).total.must == 1


def test_the_database_keeps_paths_even_when_a_unit_is_saved_directly():
    org, health, home, ward, school = _tree()
    plain = Unit.objects.create(organisation=org, parent=school, name="Direkte")
    plain.refresh_from_db()
    assert plain.path == f"{school.path}{plain.pk}/"
    home.parent = None
    home.save()
    ward.refresh_from_db()
    assert ward.path == f"/{home.pk}/{ward.pk}/"


def test_a_unit_cannot_be_moved_below_itself():
    org, health, home, ward, school = _tree()
    with pytest.raises(UnitError):
        move_unit(health, parent=ward)
    health.parent = ward
    with pytest.raises(IntegrityError), transaction.atomic():
        health.save()


def test_moving_an_audience_unit_moves_the_obligation_with_it():
    org, health, home, ward, school = _tree()
    nurse = make_person(org, unit=ward)
    teacher = make_person(org, unit=school)
    policy = make_policy(org, audience_all=False)
    policy.audience_units.set([home])
    assert set(Person.objects.in_audience_of(policy)) == {nurse}
    move_unit(ward, parent=school)
    assert set(Person.objects.in_audience_of(policy)) == set()
    move_unit(school, parent=home)
    assert set(Person.objects.in_audience_of(policy)) == {nurse, teacher}


# --- The admin refuses what mixes two kommuner ---------------------------------------------------


def test_the_admin_refuses_a_parent_unit_in_another_kommune(admin_client):
    org, health, *_ = _tree()
    other = make_organisation()
    response = admin_client.post(
        reverse("admin:people_unit_add"),
        {"organisation": other.pk, "parent": health.pk, "name": "Snikinn"},
    )
    assert response.status_code == 200
    assert "Overordnet enhet må høre til samme kommune." in response.content.decode()
    assert not Unit.objects.filter(name="Snikinn").exists()


def test_the_database_refuses_a_parent_unit_in_another_kommune():
    org, health, *_ = _tree()
    other = make_organisation()
    with pytest.raises(IntegrityError), transaction.atomic():
        Unit.objects.create(organisation=other, parent=health, name="Snikinn")


def test_the_admin_refuses_a_person_in_another_kommunes_unit(admin_client):
    org, health, *_ = _tree()
    other = make_organisation()
    person = make_person(other)
    response = admin_client.post(
        reverse("admin:people_person_change", args=[person.pk]),
        {
            "username": person.username,
            "first_name": "Kari",
            "last_name": "Nordmann",
            "email": "kari@example.invalid",
            "is_active": "on",
            "date_joined_0": "2025-01-01",
            "date_joined_1": "08:00:00",
            "organisation": other.pk,
            "unit": health.pk,
            "employee_number": "",
        },
    )
    assert response.status_code == 200
    assert "Enheten må høre til personens kommune." in response.content.decode()
    person.refresh_from_db()
    assert person.unit_id is None


def test_the_admin_refuses_managed_units_in_another_kommune(admin_client):
    org, health, *_ = _tree()
    other = make_organisation()
    person = make_person(other)
    response = admin_client.post(
        reverse("admin:people_person_change", args=[person.pk]),
        {
            "username": person.username,
            "first_name": "Kari",
            "last_name": "Nordmann",
            "email": "kari@example.invalid",
            "is_active": "on",
            "date_joined_0": "2025-01-01",
            "date_joined_1": "08:00:00",
            "organisation": other.pk,
            "managed_units": [health.pk],
        },
    )
    assert response.status_code == 200
    assert "En leder kan bare lede enheter i sin egen kommune." in response.content.decode()
    assert not person.managed_units.exists()


@pytest.mark.parametrize("slug", ["Admin", "ADMIN", "Oversikt", "sok"])
def test_the_admin_refuses_a_reserved_organisation_address_in_any_letter_case(admin_client, slug):
    response = admin_client.post(
        reverse("admin:people_organisation_add"), {"name": "Lureby", "slug": slug}
    )
    assert response.status_code == 200
    assert "Adressen er reservert for nettstedet selv." in response.content.decode()
    assert not Organisation.objects.filter(name="Lureby").exists()


def test_the_database_refuses_a_reserved_organisation_address_in_any_letter_case():
    with pytest.raises(IntegrityError), transaction.atomic():
        Organisation.objects.create(name="Lureby", slug="Admin")
