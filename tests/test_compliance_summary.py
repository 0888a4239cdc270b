"""The overview's cache (ComplianceSummary) equals the rule after every change that can move it.

Hypothesis generates a kommune and then a random history, one step at a time: confirmations of
current and older versions, material and editorial publishes (some scheduled and activated later),
people joining, leaving, coming back, moving unit, getting a new start date or becoming elected
officials, units moving in the tree, audiences changed, policies retired and restored. After every
step two things must hold:

- the summary's rows equal a recount from policies_obligation (the rule, as a QuerySet);
- the overview read from the summary equals the same figures computed from scratch from the
  Obligation rows, for the whole kommune and for every unit's manager, today and on later days
  (lateness is decided when read, never stored).
"""

from __future__ import annotations

import contextlib
import datetime
import os
import threading

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from people.models import Unit
from people.units import move_unit
from policies import dashboards
from policies.dashboards import Scope
from policies.models import Acknowledgement, ChangeKind, Confirmation, PolicyVersion
from policies.workflow import WorkflowError, activate_due_versions, restore, retire

from .factories import make_organisation, make_person, make_policy, make_unit, publish_version
from .locks import eventually, sessions_waiting_on_locks

pytestmark = pytest.mark.django_db


def _ago(days: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=days)


def assert_summary_is_the_truth() -> None:
    """Every organisation's summary equals a recount from policies_obligation, row for row."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT organisation_id, policy_id, COALESCE(unit_id, 0),
                   policies_summary_due(due, status), count(*),
                   count(*) FILTER (WHERE status = 2)
              FROM policies_obligation
             GROUP BY 1, 2, 3, 4
            """
        )
        truth = set(cursor.fetchall())
        cursor.execute(
            """
            SELECT organisation_id, policy_id, unit_id, due, sum(must), sum(compliant)
              FROM policies_compliancesummary
             GROUP BY 1, 2, 3, 4
            HAVING sum(must) <> 0 OR sum(compliant) <> 0
            """
        )
        assert set(cursor.fetchall()) == truth


def _from_scratch(scope: Scope, row_units: list[Unit], today: datetime.date):
    """The overview's figures straight from the Obligation rows: per policy and per row unit."""
    deepest = sorted(row_units, key=lambda u: -len(u.path))
    paths = dict(
        Unit.objects.filter(organisation_id=scope.organisation_id).values_list("pk", "path")
    )
    per_policy: dict[int, list[int]] = {}
    per_row: dict[int, list[int]] = {}
    rows = scope.obligations().values_list("policy_id", "unit_id", "status", "due")
    for policy_id, unit_id, status, due in rows:
        confirmed = status == Confirmation.CONFIRMED
        figures = (1, int(confirmed), int(not confirmed and due < today))
        path = paths.get(unit_id, "")
        row = next((u.pk for u in deepest if path.startswith(u.path)), 0)
        for key, table in ((policy_id, per_policy), (row, per_row)):
            table[key] = [a + b for a, b in zip(table.get(key, [0, 0, 0]), figures, strict=True)]
    return per_policy, per_row


def _assert_overview_is_the_truth(org, units) -> None:
    for u in units:
        u.refresh_from_db()
    scopes = [(Scope(organisation_id=org.pk), [u for u in units if u.parent_id is None])]
    scopes += [
        (Scope(organisation_id=org.pk, unit_paths=(u.path,)), list(u.children.all())) for u in units
    ]
    # Every due date generated here is before today + 40: later days would show nothing new.
    for days in (0, 5, 40):
        today = timezone.localdate() + datetime.timedelta(days=days)
        for scope, row_units in scopes:
            got = dashboards.overview(scope, row_units, today=today)
            per_policy, per_row = _from_scratch(scope, row_units, today)
            assert {
                r.policy.pk: [r.tally.must, r.tally.compliant, r.tally.overdue]
                for r in got.policies
                if r.tally.must
            } == per_policy, (scope, days)
            assert {
                (r.unit.pk if r.unit else 0): [r.tally.must, r.tally.compliant, r.tally.overdue]
                for r in got.units
                if r.tally.must
            } == per_row, (scope, days)


step_st = st.one_of(
    # (kind, a, b, c): what each means is read in _step.
    st.tuples(st.just("confirm"), st.integers(0, 9), st.integers(0, 2), st.integers(0, 2)),
    st.tuples(
        st.just("publish"),
        st.integers(0, 2),
        st.sampled_from([ChangeKind.MATERIAL, ChangeKind.EDITORIAL]),
        st.integers(-3, 60),
    ),
    st.tuples(st.just("activate"), st.integers(0, 5), st.just(0), st.just(0)),
    st.tuples(st.just("move_person"), st.integers(0, 9), st.integers(-1, 5), st.integers(0, 60)),
    # Twice as likely as the others: a move changes whom a unit audience covers.
    st.tuples(st.just("move_unit"), st.integers(0, 5), st.integers(-1, 5), st.just(0)),
    st.tuples(st.just("move_unit"), st.integers(0, 5), st.integers(-1, 5), st.just(0)),
    st.tuples(st.just("leave"), st.integers(0, 9), st.just(0), st.just(0)),
    st.tuples(st.just("return"), st.integers(0, 9), st.just(0), st.just(0)),
    st.tuples(st.just("elected"), st.integers(0, 9), st.just(0), st.just(0)),
    st.tuples(st.just("join"), st.integers(-1, 5), st.booleans(), st.integers(0, 60)),
    st.tuples(st.just("audience"), st.integers(0, 2), st.integers(-1, 5), st.booleans()),
    st.tuples(st.just("retire"), st.integers(0, 2), st.just(0), st.just(0)),
)
world_st = st.fixed_dictionaries(
    {
        "units": st.lists(st.integers(min_value=-1, max_value=5), min_size=1, max_size=6),
        "people": st.lists(
            st.tuples(st.integers(-1, 5), st.booleans(), st.integers(0, 120)),
            min_size=2,
            max_size=8,
        ),
        "policies": st.lists(
            st.tuples(st.booleans(), st.booleans(), st.integers(-1, 5), st.sampled_from([10, 30])),
            min_size=1,
            max_size=3,
        ),
        "steps": st.lists(step_st, min_size=1, max_size=10),
    }
)


def _pick(items, index):
    return items[index % len(items)] if items and index >= 0 else None


def _build(data):
    org = make_organisation()
    units: list[Unit] = []
    for parent_index in data["units"]:
        units.append(make_unit(org, parent=_pick(units, parent_index)))
    people = [
        make_person(org, unit=_pick(units, u), is_elected_official=e, unit_since=_ago(since))
        for u, e, since in data["people"]
    ]
    policies = []
    for all_, elected, unit, deadline in data["policies"]:
        policy = make_policy(
            org, audience_all=all_, audience_elected=elected, deadline_days=deadline,
            effective_from=_ago(20),
        )  # fmt: skip
        if unit >= 0:
            policy.audience_units.set([_pick(units, unit)])
        policies.append(policy)
    # Another kommune's person, confirming: never counted in this one.
    other = make_organisation()
    outsider = make_person(other, unit=make_unit(other))
    version = make_policy(other).versions.get()
    Acknowledgement.objects.create(person=outsider, version=version, text_hash=version.text_hash)
    return org, units, people, policies


def _step(org, units, people, policies, step) -> None:
    kind, a, b, c = step
    person = people[a % len(people)]
    person.refresh_from_db()
    if kind == "confirm":
        policy = policies[b % len(policies)]
        versions = list(PolicyVersion.objects.published().filter(policy=policy).order_by("-number"))
        if c < len(versions):
            Acknowledgement.objects.get_or_create(
                person=person, version=versions[c], defaults={"text_hash": versions[c].text_hash}
            )
    elif kind == "publish":
        # A negative number of days ago is a version scheduled for the future. The workflow
        # refuses some (a retired policy, a second scheduled version): nothing changes then.
        with contextlib.suppress(WorkflowError):
            publish_version(
                policies[a % len(policies)], body=f"## Del\n\nEndring {c}.\n", change_kind=b,
                effective_from=_ago(c),
            )  # fmt: skip
    elif kind == "activate":
        activate_due_versions(today=timezone.localdate() + datetime.timedelta(days=a))
    elif kind == "move_person":
        person.unit = _pick(units, b)
        person.unit_since = _ago(c)
        person.save()
    elif kind == "move_unit":
        unit = units[a % len(units)]
        unit.refresh_from_db()
        parent = _pick(units, b)
        if parent is not None:
            parent.refresh_from_db()
            if parent.path.startswith(unit.path):
                return  # not below itself
        move_unit(unit, parent=parent)
    elif kind in ("leave", "return"):
        person.is_active = kind == "return"
        person.save()
    elif kind == "elected":
        person.is_elected_official = not person.is_elected_official
        person.save()
    elif kind == "join":
        people.append(
            make_person(org, unit=_pick(units, a), is_elected_official=b, unit_since=_ago(c))
        )
    elif kind == "audience":
        policy = policies[a % len(policies)]
        policy.audience_units.set([_pick(units, b)] if b >= 0 else [])
        if c:
            policy.audience_all = not policy.audience_all
            policy.save(update_fields=["audience_all"])
    elif kind == "retire":
        policy = policies[a % len(policies)]
        policy.refresh_from_db()
        if policy.retired_at is None:
            retire(policy, by=None)
        else:
            restore(policy, by=None)


@settings(
    # Each example runs a whole history through the real workflow; HYPOTHESIS_MAX_EXAMPLES raises
    # the number for a longer hunt.
    max_examples=int(os.environ.get("HYPOTHESIS_MAX_EXAMPLES", "20")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=world_st)
def test_summary_and_overview_equal_the_rule_after_every_step(data):
    with transaction.atomic():
        org, units, people, policies = _build(data)
        assert_summary_is_the_truth()
        for step in data["steps"]:
            _step(org, units, people, policies, step)
            assert_summary_is_the_truth()
            _assert_overview_is_the_truth(org, units)
        transaction.set_rollback(True)


def test_compaction_keeps_every_figure_and_drops_empty_rows():
    org = make_organisation()
    unit = make_unit(org)
    policy = make_policy(org, audience_all=True, deadline_days=10, effective_from=_ago(3))
    people = [make_person(org, unit=unit, unit_since=_ago(n)) for n in range(5)]
    version = policy.versions.get()
    Acknowledgement.objects.create(person=people[0], version=version, text_hash=version.text_hash)
    people[1].is_active = False
    people[1].save()
    # A due date that has passed, kept as a date: as if counted on an earlier day. Compaction folds
    # the dates before the day before UTC's today (policies_compact_compliance_summary), and for an
    # hour or two after midnight Oslo's today is a day ahead of UTC's. The unconfirmed ones are due
    # 27-28 days from now: 31 days back puts them at least three days before Oslo's today, so
    # before UTC's yesterday at any hour (with 30 the test failed between 23 and 24 UTC).
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE policies_compliancesummary SET due = due - 31 "
            "WHERE organisation_id = %s AND due IS NOT NULL",
            [org.pk],
        )
        cursor.execute(
            "INSERT INTO policies_compliancesummary "
            "(organisation_id, policy_id, unit_id, due, must, compliant) "
            "VALUES (%s, %s, %s, %s, 0, 0)",
            [org.pk, policy.pk, unit.pk, _ago(-100)],
        )
    before = dashboards.overview(Scope(organisation_id=org.pk), [unit])
    with connection.cursor() as cursor:
        cursor.execute("SELECT policies_compact_compliance_summary(%s)", [org.pk])
        cursor.execute(
            "SELECT due, must, compliant FROM policies_compliancesummary "
            "WHERE organisation_id = %s",
            [org.pk],
        )
        rows = cursor.fetchall()
    after = dashboards.overview(Scope(organisation_id=org.pk), [unit])
    assert after.total == before.total
    assert (after.total.must, after.total.compliant, after.total.overdue) == (4, 1, 3)
    # One row: everything folded into the undated one, the empty row gone.
    assert rows == [(None, 4, 1)]


def test_a_unit_moved_out_of_an_audience_takes_its_people_out_of_the_counts():
    org = make_organisation()
    sector, other_sector = make_unit(org), make_unit(org)
    team = make_unit(org, parent=sector)
    policy = make_policy(org, audience_all=False)
    policy.audience_units.set([sector])
    make_person(org, unit=team)
    make_person(org, unit=sector)
    scope = Scope(organisation_id=org.pk)
    assert dashboards.overview(scope, [sector, other_sector]).total.must == 2
    move_unit(team, parent=other_sector)
    assert_summary_is_the_truth()
    got = dashboards.overview(scope, [sector, other_sector])
    assert got.total.must == 1
    assert [r.tally.must for r in got.units] == [1, 0]


# --- A confirmation racing a publish ------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_confirmation_committed_during_a_publish_counts_against_the_new_requirement():
    """A material version is published (and its policy recounted) but not yet committed when an
    older version's confirmation is written by another connection. The confirmation must wait for
    the recount's kommune lock and then count against the new requirement (not confirmed);
    counted against the old one, the summary would say confirmed and disagree with the rule."""
    org = make_organisation()
    unit = make_unit(org)
    policy = make_policy(org, audience_all=True)
    person = make_person(org, unit=unit)
    first = policy.versions.get()
    outcome: dict = {}
    published, release = threading.Event(), threading.Event()

    def publisher():
        try:
            with transaction.atomic():
                publish_version(policy, body="## Ny\n\nNye regler.\n")
                published.set()
                assert release.wait(timeout=20)
            outcome["publish"] = True
        except Exception as exc:  # noqa: BLE001 - asserted below
            outcome["publish"] = exc
        finally:
            connections.close_all()

    def confirmer():
        try:
            assert published.wait(timeout=20)
            Acknowledgement.objects.create(person=person, version=first, text_hash=first.text_hash)
            outcome["confirm"] = True
        except Exception as exc:  # noqa: BLE001 - asserted below
            outcome["confirm"] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=publisher), threading.Thread(target=confirmer)]
    for thread in threads:
        thread.start()
    # The confirmation waits for the publish.
    assert eventually(lambda: sessions_waiting_on_locks() >= 1)
    release.set()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    assert outcome == {"publish": True, "confirm": True}
    assert_summary_is_the_truth()
    total = dashboards.overview(Scope(organisation_id=org.pk), [unit]).total
    assert (total.must, total.compliant) == (1, 0)


def test_a_person_moved_to_another_kommune_or_deleted_leaves_the_counts():
    first, second = make_organisation(), make_organisation()
    units = make_unit(first), make_unit(second)
    policies = make_policy(first, audience_all=True), make_policy(second, audience_all=True)
    mover, deleted = make_person(first, unit=units[0]), make_person(first, unit=units[0])
    version = policies[0].versions.get()
    Acknowledgement.objects.create(person=mover, version=version, text_hash=version.text_hash)

    def totals():
        return [
            (t.must, t.compliant)
            for t in (
                dashboards.overview(Scope(organisation_id=o.pk), [u]).total
                for o, u in zip((first, second), units, strict=True)
            )
        ]

    assert totals() == [(2, 1), (0, 0)]
    mover.organisation, mover.unit = second, units[1]
    mover.save()
    assert_summary_is_the_truth()
    # Their confirmation was of the first kommune's policy: in the second they must start over.
    assert totals() == [(1, 0), (1, 0)]
    deleted.delete()
    assert_summary_is_the_truth()
    assert totals() == [(0, 0), (1, 0)]
