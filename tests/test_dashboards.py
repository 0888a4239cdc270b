"""The manager aggregates: scope, compliance against hand-computed numbers, constant query counts."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from people.models import Person
from policies import dashboards
from policies.access import get_managed_policy, get_managed_unit, manager_scope, visible_units
from policies.dashboards import Confirmation, Scope
from policies.models import ChangeKind

from .factories import make_organisation, make_person, make_policy, make_unit, publish_version
from .manager_setup import acknowledge, make_world

pytestmark = pytest.mark.django_db

LONG_AGO = timezone.now() - datetime.timedelta(days=400)


def _days_ago(n: int) -> datetime.date:
    # Today as the test runs, not as the module was imported (a run may cross midnight).
    return timezone.localdate() - datetime.timedelta(days=n)


def _tallies(overview) -> dict[str, tuple[int, int, int]]:
    return {
        row.policy.slug: (row.tally.must, row.tally.compliant, row.tally.overdue)
        for row in overview.policies
    }


# --- Scope ----------------------------------------------------------------------------------


def test_a_manager_sees_their_unit_and_its_sub_units_but_not_siblings():
    world = make_world()
    scope = manager_scope(world.manager)
    units = set(visible_units(world.manager))
    assert units == {world.health, world.nursing_home, world.ward}
    page = dashboards.person_page(scope, world.policy)
    names = {row.last_name for row in page.rows}
    assert {"Ødegård", "Berg"} <= names
    assert "Lærer" not in names and "Ansatt" not in names


def test_a_manager_never_sees_another_organisation():
    world = make_world()
    other = make_world("Annenby kommune", "annenby", policy_slug="annen")
    with pytest.raises(Exception) as excinfo:
        get_managed_unit(world.manager, other.health.pk)
    assert excinfo.value.__class__.__name__ == "Http404"
    with pytest.raises(Exception) as excinfo:
        get_managed_policy(world.manager, "annen")
    assert excinfo.value.__class__.__name__ == "Http404"
    overview = dashboards.overview(manager_scope(world.manager), [world.health])
    assert overview.total.must == 3  # the manager, the nurse and the carer; nobody from Annenby


def test_someone_who_manages_nothing_is_refused():
    world = make_world()
    with pytest.raises(Exception) as excinfo:
        manager_scope(world.employee)
    assert excinfo.value.__class__.__name__ == "PermissionDenied"


def test_managing_a_unit_inside_another_managed_unit_counts_nobody_twice():
    world = make_world()
    world.manager.managed_units.add(world.ward)
    scope = manager_scope(world.manager)
    assert scope.unit_paths == (world.health.path,)
    assert dashboards.overview(scope, []).total.must == 3


def test_unit_rows_roll_up_their_sub_units():
    world = make_world()
    scope = manager_scope(world.manager).narrowed_to(world.health)
    overview = dashboards.overview(scope, [world.nursing_home])
    rows = {row.unit.name if row.unit else None: row for row in overview.units}
    # Sykehjem includes Avdeling A: the carer (not confirmed) and the nurse (confirmed).
    assert (rows["Sykehjem"].tally.must, rows["Sykehjem"].tally.compliant) == (2, 1)
    assert rows["Sykehjem"].people == 2
    # The manager sits directly in Helse.
    assert rows[None].tally.must == 1


# --- Compliance against a hand-computed organisation ------------------------------------------


def _small_organisation():
    org = make_organisation("Håndregnet kommune", "handregnet")
    office = make_unit(org, "Rådhuset")
    school = make_unit(org, "Skolen")
    hr = make_person(org, unit=office, sees_whole_organisation=True, date_joined=LONG_AGO)
    anna = make_person(org, unit=office, last_name="Anna", date_joined=LONG_AGO)
    bodil = make_person(org, unit=office, last_name="Bodil", date_joined=LONG_AGO)
    carl = make_person(org, unit=school, last_name="Carl", date_joined=LONG_AGO)
    # A new joiner: came to the school five days ago, so their 30 days have not run out.
    dina = make_person(
        org, unit=school, last_name="Dina", date_joined=LONG_AGO, unit_since=_days_ago(5)
    )
    elin = make_person(org, unit=school, last_name="Elin", is_elected_official=True)
    make_person(org, unit=office, last_name="Sluttet", is_active=False, date_joined=LONG_AGO)

    # Everyone: version 1 (material, 100 days ago), version 2 editorial. Required: version 1.
    basic = make_policy(org, slug="grunnleggende", effective_from=_days_ago(100))
    v1 = basic.versions.get(number=1)
    v2 = publish_version(
        basic,
        body="Rettet skrivefeil.",
        change_kind=ChangeKind.EDITORIAL,
        effective_from=_days_ago(50),
    )
    acknowledge(anna, v1)
    acknowledge(bodil, v2)
    # Everyone: version 2 is material and came 10 days ago. Required: version 2.
    revised = make_policy(org, slug="revidert", effective_from=_days_ago(200))
    r1 = revised.versions.get(number=1)
    r2 = publish_version(
        revised, body="Nye regler.", change_kind=ChangeKind.MATERIAL, effective_from=_days_ago(10)
    )
    acknowledge(anna, r1)
    acknowledge(bodil, r2)
    acknowledge(carl, r1)
    # The school and elected officials only.
    school_policy = make_policy(
        org,
        slug="skole-og-folkevalgte",
        effective_from=_days_ago(100),
        audience_all=False,
        audience_elected=True,
    )
    school_policy.audience_units.set([school])
    acknowledge(elin, school_policy.versions.get(number=1))
    return org, hr, {"anna": anna, "bodil": bodil, "carl": carl, "dina": dina, "elin": elin}


def test_overview_matches_a_hand_computed_organisation():
    org, hr, people = _small_organisation()
    overview = dashboards.overview(manager_scope(hr), [])
    assert _tallies(overview) == {
        # hr, anna, bodil, carl, dina: anna (v1) and bodil (v2, editorial) count.
        # hr and carl are overdue (100 days); dina's deadline is 25 days away.
        "grunnleggende": (5, 2, 2),
        # Only bodil confirmed version 2; it came 10 days ago, so nobody is overdue yet.
        "revidert": (5, 1, 0),
        # carl, dina and elin (elected); elin confirmed; carl is overdue, dina is new.
        "skole-og-folkevalgte": (3, 1, 1),
    }
    assert overview.policies[0].policy.slug == "revidert"  # worst first
    assert (overview.total.must, overview.total.compliant, overview.total.overdue) == (13, 4, 3)


def test_person_list_tells_confirmed_from_older_material_version_and_never():
    org, hr, people = _small_organisation()
    policy = get_managed_policy(hr, "revidert")
    page = dashboards.person_page(manager_scope(hr), policy, sort="navn")
    status = {row.last_name: row for row in page.rows}
    assert status["Bodil"].status == Confirmation.CONFIRMED
    assert status["Bodil"].acknowledged_number == 2
    assert status["Anna"].status == Confirmation.OLDER
    assert status["Anna"].acknowledged_number == 1
    assert status["Dina"].status == Confirmation.NEVER
    assert "Elin" not in status and "Sluttet" not in status
    assert (page.total, page.compliant, page.overdue) == (5, 1, 0)


def test_a_new_joiner_gets_a_deadline_from_the_day_they_joined_the_unit():
    org, hr, people = _small_organisation()
    policy = get_managed_policy(hr, "grunnleggende")
    rows = {r.last_name: r for r in dashboards.iter_person_rows(manager_scope(hr), policy)}
    assert rows["Dina"].due == _days_ago(5) + datetime.timedelta(days=30)
    assert not rows["Dina"].is_overdue
    assert rows["Carl"].due == _days_ago(100) + datetime.timedelta(days=30)
    assert rows["Carl"].is_overdue


def test_only_those_missing_filter_and_sorting():
    org, hr, people = _small_organisation()
    policy = get_managed_policy(hr, "grunnleggende")
    page = dashboards.person_page(manager_scope(hr), policy, missing_only=True, sort="-navn")
    names = [row.last_name for row in page.rows]
    assert "Anna" not in names and "Bodil" not in names
    assert names == sorted(names, reverse=True)
    assert page.shown == 3


def test_aggregates_agree_with_in_audience_of_on_a_mixed_organisation():
    org, hr, people = _small_organisation()
    # Mix in: people without a unit, a nested unit in the audience, an elected official elsewhere.
    school = people["carl"].unit
    annex = make_unit(org, "Paviljongen", parent=school)
    make_person(org, unit=annex)
    make_person(org, unit=None)
    make_person(org, unit=people["anna"].unit, is_elected_official=True)
    scope = manager_scope(hr)
    overview = dashboards.overview(scope, [])
    for row in overview.policies:
        audience = Person.objects.in_audience_of(row.policy)
        assert row.tally.must == audience.count(), row.policy.slug
        listed = {r.person_id for r in dashboards.iter_person_rows(scope, row.policy)}
        assert listed == set(audience.values_list("pk", flat=True)), row.policy.slug


# --- Query counts do not grow with the organisation -------------------------------------------


def _grow(world, people: int, units: int) -> None:
    parent = world.ward
    for _ in range(units):
        parent = make_unit(world.organisation, parent=parent)
    version = world.policy.versions.get(number=1)
    for n in range(people):
        person = make_person(world.organisation, unit=parent if n % 2 else world.nursing_home)
        if n % 3:
            acknowledge(person, version)


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    assert response.status_code == 200
    return len(context)


@pytest.mark.parametrize("extra_people,extra_units", [(0, 0), (40, 6)])
def test_dashboard_pages_run_a_fixed_number_of_queries(
    client, django_assert_max_num_queries, extra_people, extra_units
):
    world = make_world()
    make_policy(world.organisation, slug="to")
    _grow(world, extra_people, extra_units)
    client.force_login(world.manager)
    slug = world.policy.slug
    unit = world.health.pk
    # Session, user, scope, the page's units and policies, the navigation, and the aggregate:
    # requirements plus class counts (with their SET LOCAL and, inside the test transaction,
    # a savepoint pair). The overviews read the latest material versions once more, to explain
    # a reset (compliance.recent_material_changes); the person list reads its reminders' and
    # change notices' states once each.
    pages = {
        "/oversikt/": 14,
        f"/oversikt/enhet/{unit}/": 14,
        f"/oversikt/enhet/{unit}/retningslinje/{slug}/": 14,
        f"/oversikt/enhet/{unit}/retningslinje/{slug}/eksport.csv": 13,
    }
    for url, limit in pages.items():
        with django_assert_max_num_queries(limit):
            response = client.get(url)
            if hasattr(response, "streaming_content"):
                b"".join(response.streaming_content)


def test_query_counts_are_the_same_for_a_small_and_a_larger_organisation(client):
    world = make_world()
    client.force_login(world.manager)
    urls = ["/oversikt/", f"/oversikt/enhet/{world.health.pk}/"]
    urls.append(f"/oversikt/enhet/{world.health.pk}/retningslinje/{world.policy.slug}/")
    before = [_queries(client, url) for url in urls]
    _grow(world, 60, 8)
    make_policy(world.organisation, slug="enda-en")
    after = [_queries(client, url) for url in urls]
    assert before == after


def test_scope_without_units_matches_nobody():
    org = make_organisation()
    make_person(org, unit=make_unit(org))
    make_policy(org)
    overview = dashboards.overview(Scope(organisation_id=org.pk, unit_paths=()), [])
    assert overview.total.must == 0


def test_overview_and_person_lists_agree_with_several_deadline_lengths():
    from policies.workflow import create_draft, publish

    org, hr, people = _small_organisation()
    # A policy with a long deadline: in force for 100 days, 200 days to confirm.
    slow = make_policy(org, slug="lang-frist", published=False)
    draft = create_draft(slow, by=None, body="## Regler\n\nLes dette.\n")
    publish(
        draft,
        by=None,
        change_kind=ChangeKind.MATERIAL,
        change_note="Første versjon.",
        effective_from=_days_ago(100),
        deadline_days=200,
    )
    # And someone who joined 150 days ago: overdue for 30-day policies, not for the slow one.
    make_person(org, unit=people["anna"].unit, date_joined=LONG_AGO, unit_since=_days_ago(150))
    scope = manager_scope(hr)
    overview = dashboards.overview(scope, [])
    tallies = _tallies(overview)
    assert tallies["lang-frist"][2] == 0
    for row in overview.policies:
        listed = list(dashboards.iter_person_rows(scope, row.policy))
        assert row.tally.must == len(listed), row.policy.slug
        assert row.tally.compliant == sum(r.is_confirmed for r in listed), row.policy.slug
        assert row.tally.overdue == sum(r.is_overdue for r in listed), row.policy.slug


def _domain_queries(context) -> list[str]:
    """The statements that read data: no SET LOCAL, no test-transaction savepoints."""
    return [
        q["sql"]
        for q in context.captured_queries
        if not q["sql"].startswith(("SET ", "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO"))
    ]


def test_the_overview_reads_with_two_queries_whatever_the_size_of_the_organisation():
    world = make_world()
    scope = manager_scope(world.manager)
    rows = [world.health]
    with CaptureQueriesContext(connection) as small:
        dashboards.overview(scope, rows)
    _grow(world, 60, 8)
    make_policy(world.organisation, slug="to")
    with CaptureQueriesContext(connection) as large:
        dashboards.overview(scope, rows)
    # The policies in force, and one statement for every count.
    assert len(_domain_queries(small)) == len(_domain_queries(large)) == 2


def test_the_compliance_summary_equals_the_rule_after_moves_and_leavers():
    from .test_compliance_summary import assert_summary_is_the_truth

    world = make_world()
    version = world.policy.versions.get(number=1)
    acknowledge(world.carer, version)
    assert_summary_is_the_truth()
    world.nurse.unit = world.school
    world.nurse.save()
    world.teacher.is_active = False
    world.teacher.save()
    world.carer.is_elected_official = True
    world.carer.save()
    assert_summary_is_the_truth()
    second = publish_version(world.policy, body="## Ny\n\nNy tekst.\n")
    acknowledge(world.nurse, second)
    world.teacher.is_active = True
    world.teacher.save()
    assert_summary_is_the_truth()


def test_someone_whose_own_deadline_is_today_is_not_yet_overdue():
    """The overview and the person list draw the line at the same day: due today is not late,
    due yesterday is (the version itself has been in force for longer than the deadline)."""
    org, hr, people = _small_organisation()
    school = people["carl"].unit
    # The basic policy's deadline is 30 days; one started exactly 30 days ago, one 31 days ago.
    today_due = make_person(org, unit=school, date_joined=LONG_AGO, unit_since=_days_ago(30))
    late = make_person(org, unit=school, date_joined=LONG_AGO, unit_since=_days_ago(31))
    scope = manager_scope(hr)
    overview = dashboards.overview(scope, [])
    row = next(r for r in overview.policies if r.policy.slug == "grunnleggende")
    listed = {r.person_id: r for r in dashboards.iter_person_rows(scope, row.policy)}
    assert listed[today_due.pk].due == timezone.localdate()
    assert not listed[today_due.pk].is_overdue
    assert listed[late.pk].is_overdue
    assert row.tally.overdue == sum(r.is_overdue for r in listed.values())
