"""Property: the person side and every manager figure agree, for every person.

Hypothesis generates a kommune (a unit tree, people with and without units, elected officials),
policies for the whole kommune, for units with their sub-units and for elected officials, with
material and editorial versions and deadlines, confirmations of old and new versions, and then
people moving unit, units moving in the tree, leavers and returners. For each example the
person side ("Mine retningslinjer", compliance.obligations_for) is checked against a plain
Python statement of the rule in DESIGN.md, and then every manager figure is checked against the
person side: the overview per policy and per row unit (whole kommune and each unit's manager),
the person lists (page totals and streamed rows), the CSV export rows, the reminder recipients,
the digest recipients, and the maintained summary against the rule itself.
"""

from __future__ import annotations

import datetime
import os

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from people.models import Person, Unit
from people.units import move_unit
from policies import dashboards
from policies.compliance import obligations_for
from policies.dashboards import Scope
from policies.exports import csv_lines
from policies.models import Acknowledgement, ChangeKind, PolicyVersion
from policies.reminders import plan_reminders, send_digests

from .factories import make_organisation, make_person, make_policy, make_unit, publish_version
from .test_compliance_summary import assert_summary_is_the_truth

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def _ago(days: int) -> datetime.date:
    return TODAY() - datetime.timedelta(days=days)


units_st = st.lists(st.integers(min_value=-1, max_value=5), min_size=1, max_size=6)
person_st = st.fixed_dictionaries(
    {
        "unit": st.integers(min_value=-1, max_value=5),
        "elected": st.booleans(),
        "since": st.one_of(st.none(), st.integers(min_value=0, max_value=120)),
        "joined": st.integers(min_value=0, max_value=400),
        "email": st.booleans(),
    }
)
policy_st = st.fixed_dictionaries(
    {
        "all": st.booleans(),
        "elected": st.booleans(),
        "units": st.lists(st.integers(min_value=0, max_value=5), max_size=2),
        "deadline": st.sampled_from([10, 30, 90]),
        # Versions after the first: material or editorial, in force since that many days.
        "later": st.lists(
            st.tuples(
                st.sampled_from([ChangeKind.MATERIAL, ChangeKind.EDITORIAL]), st.integers(0, 60)
            ),
            max_size=2,
        ),
        "first": st.integers(min_value=61, max_value=200),
    }
)
change_st = st.one_of(
    st.tuples(st.just("move_person"), st.integers(0, 9), st.integers(-1, 5)),
    st.tuples(st.just("move_unit"), st.integers(0, 5), st.integers(-1, 5)),
    st.tuples(st.just("leave"), st.integers(0, 9), st.just(0)),
    st.tuples(st.just("return"), st.integers(0, 9), st.just(0)),
    st.tuples(st.just("elected"), st.integers(0, 9), st.just(0)),
)
world_st = st.fixed_dictionaries(
    {
        "units": units_st,
        "people": st.lists(person_st, min_size=1, max_size=8),
        "policies": st.lists(policy_st, min_size=1, max_size=3),
        # For each (person, policy): which version they confirmed, counted from the newest
        # (0 = current, 1 = the one before, ...), or None.
        "acks": st.lists(st.one_of(st.none(), st.integers(0, 2)), min_size=24, max_size=24),
        "changes": st.lists(change_st, max_size=4),
        "acks_after": st.lists(st.one_of(st.none(), st.integers(0, 2)), min_size=24, max_size=24),
    }
)


def _pick(items, index):
    return items[index % len(items)] if items and index >= 0 else None


def _build(data):
    org = make_organisation()
    units: list[Unit] = []
    for parent_index in data["units"]:
        parent = units[parent_index % len(units)] if units and parent_index >= 0 else None
        units.append(make_unit(org, parent=parent))
    people = []
    for n, p in enumerate(data["people"]):
        joined = timezone.now() - datetime.timedelta(days=p["joined"])
        people.append(
            make_person(
                org,
                unit=_pick(units, p["unit"]),
                is_elected_official=p["elected"],
                unit_since=None if p["since"] is None else _ago(p["since"]),
                date_joined=joined,
                email=f"p{n}@example.invalid" if p["email"] else "",
            )
        )
    policies = []
    for spec in data["policies"]:
        policy = make_policy(
            org,
            audience_all=spec["all"],
            audience_elected=spec["elected"],
            deadline_days=spec["deadline"],
            effective_from=_ago(spec["first"]),
        )
        policy.audience_units.set({_pick(units, i) for i in spec["units"]})
        for n, (kind, days) in enumerate(spec["later"]):
            publish_version(policy, body=f"## Del\n\nEndring {n}.\n", change_kind=kind,
                            effective_from=_ago(days))  # fmt: skip
        policies.append(policy)
    # Someone in another kommune, with the same kind of policy confirmed: must never be counted.
    other = make_organisation()
    outsider = make_person(other, unit=make_unit(other))
    _acknowledge(outsider, make_policy(other), 0)
    return org, units, people, policies


def _acknowledge(person, policy, back):
    versions = list(PolicyVersion.objects.published().filter(policy=policy).order_by("-number"))
    if back is None or back >= len(versions):
        return
    Acknowledgement.objects.get_or_create(
        person=person, version=versions[back], defaults={"text_hash": versions[back].text_hash}
    )


def _acknowledge_all(people, policies, choices):
    for i, person in enumerate(people):
        for j, policy in enumerate(policies):
            _acknowledge(person, policy, choices[(i * 3 + j) % len(choices)])


def _change(people, units, change):
    kind, a, b = change
    person = people[a % len(people)]
    if kind == "move_person":
        person.unit = _pick(units, b)
        person.unit_since = TODAY()
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
    elif kind == "leave":
        person.is_active = False
        person.save()
    elif kind == "return":
        person.is_active = True
        person.save()
    elif kind == "elected":
        person.is_elected_official = not person.is_elected_official
        person.save()


# --- The rule, stated plainly in Python (DESIGN.md) -------------------------------------------


def _ancestors(unit: Unit | None) -> set[int]:
    """The unit and every unit above it, by following parents (not paths)."""
    found = set()
    while unit is not None:
        found.add(unit.pk)
        unit = unit.parent
    return found


def _expected(person: Person, policies) -> dict[int, tuple[bool, bool, datetime.date]]:
    """policy id -> (confirmed, overdue, due) for one person, straight from the rule."""
    if not person.is_active:
        return {}
    unit = Unit.objects.filter(pk=person.unit_id).first()
    result = {}
    for policy in policies:
        audience = {u.pk for u in policy.audience_units.all()}
        applies = (
            (policy.audience_all and not person.is_elected_official)
            or (policy.audience_elected and person.is_elected_official)
            or bool(audience & _ancestors(unit))
        )
        if not applies:
            continue
        in_force = list(PolicyVersion.objects.published().filter(policy=policy))
        required = max((v for v in in_force if v.change_kind == ChangeKind.MATERIAL),
                       key=lambda v: v.number)  # fmt: skip
        numbers = Acknowledgement.objects.filter(person=person, version__policy=policy)
        best = max((a.version.number for a in numbers.select_related("version")), default=None)
        confirmed = best is not None and best >= required.number
        since = person.unit_since or timezone.localdate(person.date_joined)
        due = max(required.effective_from, since) + datetime.timedelta(days=required.deadline_days)
        result[policy.pk] = (confirmed, not confirmed and due < TODAY(), due)
    return result


def _subtree_members(unit: Unit, people) -> set[int]:
    return {p.pk for p in people if p.is_active and unit.pk in _ancestors(p.unit)}


# --- The property -------------------------------------------------------------------------------


@settings(
    # Each example builds a kommune through the real workflow; 20 keep the suite within its budget
    # (HYPOTHESIS_MAX_EXAMPLES raises it for a longer hunt).
    max_examples=int(os.environ.get("HYPOTHESIS_MAX_EXAMPLES", "20")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=world_st)
def test_person_side_and_every_manager_figure_agree_for_every_person(data):
    with transaction.atomic():
        org, units, people, policies = _build(data)
        _acknowledge_all(people, policies, data["acks"])
        for change in data["changes"]:
            _change(people, units, change)
        _acknowledge_all(people, policies, data["acks_after"])
        _check(org, units, people, policies)
        transaction.set_rollback(True)


def _check(org, units, people, policies):
    for p in people:
        p.refresh_from_db()
    for u in units:
        u.refresh_from_db()
    # The person side against the rule.
    person_side: dict[int, dict[int, tuple[bool, bool, datetime.date]]] = {}
    for person in people:
        got = {o.policy_id: (o.is_confirmed, o.is_overdue, o.due) for o in obligations_for(person)}
        assert got == _expected(person, policies), person
        person_side[person.pk] = got

    def figures(policy_id, members):
        rows = [person_side[m][policy_id] for m in members if policy_id in person_side[m]]
        return (len(rows), sum(r[0] for r in rows), sum(r[1] for r in rows))

    everyone = {p.pk for p in people if p.is_active}
    by_pk = {p.pk: p for p in people}
    scopes = [(Scope(organisation_id=org.pk), everyone, [u for u in units if u.parent_id is None])]
    for unit in units:
        scopes.append(
            (Scope(organisation_id=org.pk, unit_paths=(unit.path,)), _subtree_members(unit, people),
             list(unit.children.all()))
        )  # fmt: skip
    for scope, members, row_units in scopes:
        overview = dashboards.overview(scope, row_units)
        # The overview per policy, and its total.
        for row in overview.policies:
            t = row.tally
            assert (t.must, t.compliant, t.overdue) == figures(row.policy.pk, members), row.policy
        assert {r.policy.pk for r in overview.policies} == {p.pk for p in policies}
        # The unit roll-ups: each row unit's sub-tree, and the rest.
        rolled = set()
        for unit_row in overview.units:
            if unit_row.unit is None:
                row_members = members - rolled
            else:
                row_members = _subtree_members(unit_row.unit, people) & members
                rolled |= row_members
            expected = [figures(p.pk, row_members) for p in policies]
            t = unit_row.tally
            assert (t.must, t.compliant, t.overdue) == tuple(map(sum, zip(*expected, strict=True)))
            assert unit_row.people == len(row_members)
        for policy in policies:
            expected_rows = {
                m: person_side[m][policy.pk] for m in members if policy.pk in person_side[m]
            }
            # The person list, streamed (what the CSV/XLSX exports write) and paged.
            listed = list(dashboards.iter_person_rows(scope, policy))
            assert {
                r.person_id: (r.is_confirmed, r.is_overdue, r.due) for r in listed
            } == expected_rows
            assert len(listed) == len(expected_rows)
            page = dashboards.person_page(scope, policy)
            assert (page.total, page.compliant, page.overdue) == figures(policy.pk, members)
            csv_text = b"".join(csv_lines(iter(listed)))
            assert csv_text.count(b"\r\n") == 1 + len(expected_rows)
            # The reminders go to exactly those who have not confirmed (and have an address).
            missing = {m for m, (confirmed, _, _) in expected_rows.items() if not confirmed}
            assert set(dashboards.missing_people(scope, policy)) == missing
            plan = plan_reminders(scope=scope, policy=policy)
            assert set(plan.recipients) == {m for m in missing if by_pk[m].email}
        # The digest: what each person in scope still must confirm.
        outstanding = {
            m: sorted(
                (pid, due) for pid, (confirmed, _, due) in person_side[m].items() if not confirmed
            )
            for m in members
        }
        got = dashboards.outstanding_by_person(scope)
        assert {k: sorted(v) for k, v in got.items()} == {k: v for k, v in outstanding.items() if v}
    digest = send_digests(organisation=org, today=TODAY(), dry_run=True)
    assert digest.people == sum(
        1 for m in everyone if by_pk[m].email and any(not c for c, _, _ in person_side[m].values())
    )
    assert_summary_is_the_truth()
