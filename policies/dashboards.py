"""Manager-side aggregate reads: who must confirm what, who has, and who is overdue.

Everything here is computed in SQL, so that a page costs the same small number of queries whether a
unit has ten people or the municipality has twenty thousand. The rules mirror the models exactly:

- the audience of a policy is `Person.objects.in_audience_of(policy)`: active people of the
  organisation who are employees (not elected officials) when the whole organisation is named, people
  in the chosen units or their sub-units, and elected officials when they are named;
- a person is compliant when they have acknowledged a version whose number is at least that of the
  latest *material* version among the published and superseded ones;
- their requirement starts at max(effective_from of that version, unit_since or date_joined), and
  the deadline is that plus the version's `deadline_days`; after it they are overdue ("forfalt").

The overview (per policy and per unit) counts people in classes and acknowledgements as one bit
mask per person, so its cost is one pass over the acknowledgements of the policies in force,
never one row per (person, policy). The person lists use a few named common table expressions
(`req`, `aud`, `people`, `must`, `done`) for one policy at a time. Values are always passed as
parameters; the fragments chosen at run time (sort order, scope filter, the integer bit positions)
come from fixed whitelists or integers computed in this module.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from people.models import Unit

from .models import Policy

PAGE_SIZE = 50
STREAM_CHUNK = 2000


@dataclass(frozen=True)
class Scope:
    """The people a manager may see: a whole organisation, or some units with their sub-units."""

    organisation_id: int
    # Materialised unit paths ("/3/17/"); None means the whole organisation (people without a unit too).
    unit_paths: tuple[str, ...] | None = None

    @property
    def is_whole_organisation(self) -> bool:
        return self.unit_paths is None

    def narrowed_to(self, unit: Unit) -> Scope:
        """The same organisation, only `unit` and its sub-units (access is checked by the caller)."""
        return Scope(organisation_id=self.organisation_id, unit_paths=(unit.path,))


# --- SQL building blocks ---------------------------------------------------------------------


def _params(scope: Scope, *, policy_id: int | None = None, **extra) -> dict:
    return {
        "org": scope.organisation_id,
        "prefixes": [f"{path}%" for path in scope.unit_paths or ()],
        "policy": policy_id,
        "tz": timezone.get_current_timezone_name(),
        "today": timezone.localdate(),
        **extra,
    }


def _ctes(scope: Scope, *, one_policy: bool) -> str:
    """The WITH clause of the person lists: one row per (policy, person) who must confirm.

    `req` holds the required version per policy, `aud` the units its audience covers, `people`
    the active people in scope; `must` and `done` (see _PAIRS) pair them up.
    """
    return _base_ctes(scope, one_policy=one_policy) + _PAIRS


def _base_ctes(scope: Scope, *, one_policy: bool) -> str:
    policy_filter = "AND p.id = %(policy)s" if one_policy else ""
    # An empty tuple of unit paths matches nobody, which is right for a manager without units.
    scope_filter = "" if scope.is_whole_organisation else "AND u.path LIKE ANY(%(prefixes)s)"
    return f"""
    WITH req AS (
        -- Per policy in force: its latest material version among those that have been in force.
        SELECT DISTINCT ON (v.policy_id)
               v.policy_id, v.number AS required, v.effective_from, v.deadline_days,
               p.audience_all, p.audience_elected
          FROM policies_policyversion v
          JOIN policies_policy p ON p.id = v.policy_id
         WHERE p.organisation_id = %(org)s AND p.retired_at IS NULL {policy_filter}
           AND v.status IN ('published', 'superseded') AND v.change_kind = 'material'
           AND EXISTS (SELECT 1 FROM policies_policyversion c
                        WHERE c.policy_id = p.id AND c.status = 'published')
         ORDER BY v.policy_id, v.number DESC
    ),
    qualifying AS (
        -- The versions whose acknowledgement makes a person compliant.
        SELECT v.id, v.policy_id, req.deadline_days
          FROM policies_policyversion v
          JOIN req ON req.policy_id = v.policy_id AND v.number >= req.required
         WHERE v.status IN ('published', 'superseded')
    ),
    aud AS (
        -- Every unit a policy's chosen audience units cover, sub-units included.
        SELECT DISTINCT au.policy_id, sub.id AS unit_id
          FROM policies_policy_audience_units au
          JOIN people_unit u ON u.id = au.unit_id
          JOIN people_unit sub ON sub.path LIKE u.path || '%%'
         WHERE au.policy_id IN (SELECT policy_id FROM req)
    ),
    people AS (
        SELECT pe.id, pe.unit_id, pe.is_elected_official AS elected, u.path AS unit_path,
               COALESCE(pe.unit_since, (pe.date_joined AT TIME ZONE %(tz)s)::date) AS since
          FROM people_person pe
          LEFT JOIN people_unit u ON u.id = pe.unit_id
         WHERE pe.organisation_id = %(org)s AND pe.is_active {scope_filter}
    )
    """


# One row per (policy, person) that must confirm, with the person's due date, and one row per
# (policy, person) with an acknowledgement of a new enough version. Used where people are listed.
_PAIRS = """,
    must AS (
        SELECT req.policy_id, req.required, people.*,
               GREATEST(req.effective_from, people.since) + req.deadline_days AS due
          FROM req
         CROSS JOIN people
          LEFT JOIN aud ON aud.policy_id = req.policy_id AND aud.unit_id = people.unit_id
         WHERE (req.audience_all AND NOT people.elected)
            OR (req.audience_elected AND people.elected)
            OR aud.unit_id IS NOT NULL
    ),
    done AS (
        SELECT DISTINCT a.person_id, v.policy_id
          FROM policies_acknowledgement a
          JOIN qualifying v ON v.id = a.version_id
         WHERE a.person_id IN (SELECT id FROM people)
    )
    """


def _fetch(sql: str, params: dict) -> list[tuple]:
    with transaction.atomic(), connection.cursor() as cursor:
        _without_jit(cursor)
        cursor.execute(sql, params)
        return cursor.fetchall()


def _without_jit(cursor) -> None:
    # These queries are estimated as expensive (many people times many policies) but run in tens to
    # hundreds of milliseconds; PostgreSQL's JIT would spend a second compiling them. Off for this
    # transaction, with room to sort a large organisation's acknowledgements in memory.
    cursor.execute("SET LOCAL jit = off; SET LOCAL work_mem = '128MB'")


# --- The overview: per policy and per unit ----------------------------------------------------


@dataclass
class Tally:
    """How many must confirm, how many have, how many are overdue."""

    must: int = 0
    compliant: int = 0
    overdue: int = 0

    @property
    def missing(self) -> int:
        return self.must - self.compliant

    @property
    def percent(self) -> int:
        """Whole percent compliant, rounded down so that 99.9 % never shows as 100 %."""
        return 100 if self.must == 0 else (100 * self.compliant) // self.must


@dataclass
class PolicyRow:
    policy: Policy
    tally: Tally


@dataclass
class UnitRow:
    """A row of the unit table: a unit with its sub-units rolled up (unit None: direct members)."""

    unit: Unit | None
    tally: Tally
    people: int = 0


@dataclass
class Overview:
    policies: list[PolicyRow] = field(default_factory=list)
    units: list[UnitRow] = field(default_factory=list)
    total: Tally = field(default_factory=Tally)


@dataclass(frozen=True)
class _Requirement:
    """What a policy in force asks of whom, as the overview needs it."""

    policy_id: int
    effective_from: datetime.date
    deadline_days: int
    audience_all: bool
    audience_elected: bool
    audience_unit_ids: frozenset[int]
    qualifying_version_ids: tuple[int, ...]

    def applies_to(self, unit_id: int | None, elected: bool) -> bool:
        """The class-level mirror of Person.objects.in_audience_of."""
        return (
            (self.audience_all and not elected)
            or (self.audience_elected and elected)
            or unit_id in self.audience_unit_ids
        )


def _requirements(cursor, organisation_id: int) -> list[_Requirement]:
    """Per policy in force: its latest material version, who it is for, what counts as confirmed."""
    sql = """
    WITH req AS (
        SELECT DISTINCT ON (v.policy_id)
               v.policy_id, v.number AS required, v.effective_from, v.deadline_days,
               p.audience_all, p.audience_elected
          FROM policies_policyversion v
          JOIN policies_policy p ON p.id = v.policy_id
         WHERE p.organisation_id = %(org)s AND p.retired_at IS NULL
           AND v.status IN ('published', 'superseded') AND v.change_kind = 'material'
           AND EXISTS (SELECT 1 FROM policies_policyversion c
                        WHERE c.policy_id = p.id AND c.status = 'published')
         ORDER BY v.policy_id, v.number DESC
    )
    SELECT req.policy_id, req.effective_from, req.deadline_days,
           req.audience_all, req.audience_elected,
           -- Every unit the chosen audience units cover, sub-units included.
           ARRAY(SELECT sub.id
                   FROM policies_policy_audience_units au
                   JOIN people_unit u ON u.id = au.unit_id
                   JOIN people_unit sub ON sub.path LIKE u.path || '%%'
                  WHERE au.policy_id = req.policy_id),
           -- The versions whose acknowledgement makes a person compliant.
           ARRAY(SELECT v.id FROM policies_policyversion v
                  WHERE v.policy_id = req.policy_id AND v.number >= req.required
                    AND v.status IN ('published', 'superseded'))
      FROM req
     ORDER BY req.policy_id
    """
    cursor.execute(sql, {"org": organisation_id})
    return [
        _Requirement(pid, eff, days, all_, elected, frozenset(units), tuple(versions))
        for pid, eff, days, all_, elected, units, versions in cursor.fetchall()
    ]


# A bigint holds 63 policies' bits; an organisation with more gets more mask columns.
_BITS_PER_MASK = 63


def _class_counts_sql(scope: Scope, requirements: list[_Requirement]) -> str:
    """People in scope counted per class, with per-policy compliant counts from bit masks.

    A class is what decides a person's audience, deadline and roll-up row: (unit, elected, row
    unit, and whether their own start is long enough ago to be overdue). For
    each person, one bit per policy says "has acknowledged a qualifying version"; the masks are
    built with one pass over the acknowledgements, grouped by person, which avoids
    de-duplicating hundreds of thousands of (person, policy) pairs.
    """
    masks = (len(requirements) + _BITS_PER_MASK - 1) // _BITS_PER_MASK or 1
    mask_columns = ",\n".join(
        f"bit_or(q.value) FILTER (WHERE q.mask = {k}) AS m{k}" for k in range(masks)
    )
    # People are also grouped by "long enough ago to be overdue" for each deadline length in use
    # (usually just one), so each group needs only one count per policy.
    deadlines = sorted({r.deadline_days for r in requirements})
    late_keys = "".join(f", p.since + {days} < %(today)s" for days in deadlines)
    bit_columns = "".join(
        f",\n count(*) FILTER (WHERE (m.m{bit // _BITS_PER_MASK} >> {bit % _BITS_PER_MASK}) & 1 = 1)"
        for bit in range(len(requirements))
    )
    narrow = "" if scope.is_whole_organisation else "AND a.person_id IN (SELECT id FROM people)"
    scope_filter = "" if scope.is_whole_organisation else "AND u.path LIKE ANY(%(prefixes)s)"
    # Every interpolated value above is an integer computed here, never user input.
    return f"""
    WITH units AS (
        -- Each unit with the row it rolls up into (the deepest row unit above or at it).
        SELECT u.id, u.path,
               COALESCE((SELECT r.id
                           FROM unnest(%(row_ids)s::bigint[], %(row_paths)s::text[]) AS r(id, path)
                          WHERE u.path LIKE r.path || '%%'
                          ORDER BY length(r.path) DESC LIMIT 1), 0) AS row_id
          FROM people_unit u
         WHERE u.organisation_id = %(org)s
    ),
    people AS (
        SELECT pe.id, COALESCE(pe.unit_id, 0) AS unit_id, pe.is_elected_official AS elected,
               COALESCE(pe.unit_since, (pe.date_joined AT TIME ZONE %(tz)s)::date) AS since,
               COALESCE(u.row_id, 0) AS row_id
          FROM people_person pe
          LEFT JOIN units u ON u.id = pe.unit_id
         WHERE pe.organisation_id = %(org)s AND pe.is_active {scope_filter}
    ),
    qualifying AS (
        -- Each qualifying version with its policy's mask column and bit in it.
        SELECT q.id, q.bit / {_BITS_PER_MASK} AS mask, 1::bigint << (q.bit %% {_BITS_PER_MASK}) AS value
          FROM unnest(%(version_ids)s::bigint[], %(version_bits)s::int[]) AS q(id, bit)
    ),
    masks AS (
        SELECT a.person_id, {mask_columns}
          FROM policies_acknowledgement a
          JOIN qualifying q ON q.id = a.version_id
         -- Said twice on purpose: this form lets the planner estimate the rows from its statistics
         -- and choose an index scan for a small organisation, a parallel scan for a large one.
         WHERE a.version_id = ANY(%(version_ids)s::bigint[]) {narrow}
         GROUP BY a.person_id
    )
    SELECT p.unit_id, p.elected, p.row_id{late_keys}, count(*){bit_columns}
      FROM people p
      LEFT JOIN masks m ON m.person_id = p.id
     GROUP BY p.unit_id, p.elected, p.row_id{late_keys}
    """


def overview(scope: Scope, row_units: list[Unit]) -> Overview:
    """Compliance per policy (worst first) and per row unit (sub-units rolled up) in `scope`.

    `row_units` are the units to show as rows (e.g. the children of the unit being looked at);
    people in scope below none of them are counted in a row with unit None. Three queries,
    whatever the size of the organisation: the requirements, the class counts, the policies.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        _without_jit(cursor)
        requirements = _requirements(cursor, scope.organisation_id)
        version_ids, version_bits = [], []
        for bit, requirement in enumerate(requirements):
            version_ids += requirement.qualifying_version_ids
            version_bits += [bit] * len(requirement.qualifying_version_ids)
        params = _params(
            scope,
            row_ids=[u.pk for u in row_units],
            row_paths=[u.path for u in row_units],
            version_ids=version_ids,
            version_bits=version_bits,
        )
        cursor.execute(_class_counts_sql(scope, requirements), params)
        classes = cursor.fetchall()

    today = timezone.localdate()
    deadlines = sorted({r.deadline_days for r in requirements})
    by_policy = {r.policy_id: Tally() for r in requirements}
    by_row: dict[int, UnitRow] = {}
    total = Tally()
    for unit_id, elected, row_id, *counts in classes:
        late = dict(zip(deadlines, counts[: len(deadlines)], strict=True))
        people, *per_policy = counts[len(deadlines) :]
        row = by_row.setdefault(row_id, UnitRow(unit=None, tally=Tally()))
        row.people += people
        for bit, requirement in enumerate(requirements):
            if not requirement.applies_to(unit_id or None, elected):
                continue
            compliant = per_policy[bit]
            overdue = 0
            # Nobody is overdue before the version itself has been in force for the deadline.
            if late[requirement.deadline_days] and (
                requirement.effective_from + datetime.timedelta(requirement.deadline_days) < today
            ):
                overdue = people - compliant
            for tally in (by_policy[requirement.policy_id], row.tally, total):
                tally.must += people
                tally.compliant += compliant
                tally.overdue += overdue

    policies = {
        p.pk: p for p in Policy.objects.filter(pk__in=by_policy).select_related("organisation")
    }
    result = Overview(total=total)
    result.policies = sorted(
        (PolicyRow(policy=policies[pk], tally=t) for pk, t in by_policy.items()),
        key=lambda r: (r.tally.must == 0, r.tally.percent, -r.tally.overdue, r.policy.title),
    )
    for unit in row_units:
        row = by_row.get(unit.pk) or UnitRow(unit=None, tally=Tally())
        row.unit = unit
        result.units.append(row)
    if 0 in by_row:
        result.units.append(by_row[0])
    return result


# --- The people behind one policy ------------------------------------------------------------


class Confirmation:
    """A person's standing for one policy, as shown in the person list and the exports."""

    CONFIRMED = 2
    OLDER = 1
    NEVER = 0

    LABELS = {
        CONFIRMED: "Bekreftet",
        OLDER: "Må bekreftes på nytt",
        NEVER: "Ikke bekreftet",
    }


# Sort keys a page may ask for, mapped to fixed SQL; anything else falls back to the name.
SORTS = {
    "navn": "last_name, first_name, id",
    "enhet": "unit_name NULLS FIRST, last_name, first_name, id",
    "status": "status, due, last_name, first_name, id",
    "dato": "acknowledged_at NULLS FIRST, last_name, first_name, id",
    "frist": "due, last_name, first_name, id",
}


def sort_clause(sort: str) -> tuple[str, str]:
    """('navn', 'last_name, ...') for a sort key like '-navn'; unknown keys sort by name."""
    key = sort.removeprefix("-")
    if key not in SORTS:
        return "navn", SORTS["navn"]
    if sort.startswith("-"):
        # Reverse every column so that ties stay stable in the other direction too.
        columns = ", ".join(
            f"{c.replace(' NULLS FIRST', '')} DESC NULLS LAST"
            for c in (c.strip() for c in SORTS[key].split(","))
        )
        return sort, columns
    return key, SORTS[key]


@dataclass
class PersonRow:
    person_id: int
    first_name: str
    last_name: str
    email: str
    employee_number: str
    unit_name: str | None
    acknowledged_number: int | None
    acknowledged_at: datetime.datetime | None
    due: datetime.date
    status: int
    required: int

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def status_label(self) -> str:
        return Confirmation.LABELS[self.status]

    @property
    def is_confirmed(self) -> bool:
        return self.status == Confirmation.CONFIRMED

    @property
    def is_overdue(self) -> bool:
        return not self.is_confirmed and self.due < timezone.localdate()


@dataclass
class PersonPage:
    rows: list[PersonRow]
    total: int
    compliant: int
    overdue: int
    page: int
    pages: int
    missing_only: bool
    sort: str

    @property
    def tally(self) -> Tally:
        return Tally(must=self.total, compliant=self.compliant, overdue=self.overdue)

    @property
    def shown(self) -> int:
        return self.total - self.compliant if self.missing_only else self.total


def _people_sql(scope: Scope, *, order_by: str, missing_only: bool, paged: bool) -> str:
    """One row per person who must confirm the policy, with their latest acknowledgement."""
    limit = "LIMIT %(limit)s OFFSET %(offset)s" if paged else ""
    missing = "WHERE status < 2" if missing_only else ""
    return (
        _ctes(scope, one_policy=True)
        + f"""
    , latest AS (
        -- The newest version of this policy each of them has acknowledged, and when.
        SELECT DISTINCT ON (a.person_id) a.person_id, v.number, a.acknowledged_at
          FROM policies_acknowledgement a
          JOIN policies_policyversion v ON v.id = a.version_id
         WHERE v.policy_id = %(policy)s AND a.person_id IN (SELECT id FROM must)
         ORDER BY a.person_id, v.number DESC
    ),
    listed AS (
        SELECT pe.id, pe.first_name, pe.last_name, pe.email, pe.employee_number,
               u.name AS unit_name, latest.number, latest.acknowledged_at, must.due,
               CASE WHEN latest.number >= must.required THEN 2
                    WHEN latest.number IS NOT NULL THEN 1 ELSE 0 END AS status,
               must.required
          FROM must
          JOIN people_person pe ON pe.id = must.id
          LEFT JOIN people_unit u ON u.id = pe.unit_id
          LEFT JOIN latest ON latest.person_id = must.id
    ),
    counted AS (
        -- Totals over everyone, before the "only those missing" filter and the page cut.
        SELECT listed.*, count(*) OVER () AS total,
               count(*) FILTER (WHERE status = 2) OVER () AS compliant,
               count(*) FILTER (WHERE status < 2 AND due < %(today)s) OVER () AS overdue
          FROM listed
    )
    SELECT * FROM counted {missing}
     ORDER BY {order_by}
     {limit}
    """
    )


def _person_row(row: tuple) -> PersonRow:
    return PersonRow(*row[:11])


def person_page(
    scope: Scope, policy: Policy, *, sort: str = "navn", missing_only: bool = False, page: int = 1
) -> PersonPage:
    """One page of the people who must confirm `policy` in `scope`: a single query."""
    sort, order_by = sort_clause(sort)
    page = max(1, page)
    sql = _people_sql(scope, order_by=order_by, missing_only=missing_only, paged=True)
    params = _params(scope, policy_id=policy.pk, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    rows = _fetch(sql, params)
    if not rows and page > 1:
        # A page past the end (an old link after people confirmed) shows the last page instead.
        probe = person_page(scope, policy, sort=sort, missing_only=missing_only, page=1)
        last = probe.pages
        return (
            probe
            if last == 1
            else person_page(scope, policy, sort=sort, missing_only=missing_only, page=last)
        )
    total, compliant, overdue = rows[0][11:14] if rows else (0, 0, 0)
    shown = total - compliant if missing_only else total
    return PersonPage(
        rows=[_person_row(r) for r in rows],
        total=total,
        compliant=compliant,
        overdue=overdue,
        page=page,
        pages=max(1, -(-shown // PAGE_SIZE)),
        missing_only=missing_only,
        sort=sort,
    )


def iter_person_rows(
    scope: Scope, policy: Policy, *, sort: str = "navn", missing_only: bool = False
) -> Iterator[PersonRow]:
    """Every person in the list, streamed through a server-side cursor in chunks (flat memory)."""
    _, order_by = sort_clause(sort)
    sql = _people_sql(scope, order_by=order_by, missing_only=missing_only, paged=False)
    # Streaming outlives any transaction the view could open, so JIT is switched off for the
    # session and back on when the generator finishes or is closed (a client that hangs up).
    with connection.cursor() as setup:
        setup.execute("SET jit = off")
    # Django's chunked cursor is a named (server-side) psycopg cursor, the same .iterator() uses.
    cursor = connection.chunked_cursor()
    try:
        cursor.execute(sql, _params(scope, policy_id=policy.pk))
        while chunk := cursor.fetchmany(STREAM_CHUNK):
            yield from (_person_row(r) for r in chunk)
    finally:
        cursor.close()
        with connection.cursor() as setup:
            setup.execute("RESET jit")


def missing_people(scope: Scope, policy: Policy) -> list[int]:
    """The ids of the people in scope who must confirm `policy` and have not (one query)."""
    sql = _people_sql(scope, order_by="id", missing_only=True, paged=False)
    return [row[0] for row in _fetch(sql, _params(scope, policy_id=policy.pk))]


def outstanding_by_person(scope: Scope) -> dict[int, list[tuple[int, datetime.date]]]:
    """For everyone in scope: the policies they still must confirm, with their due dates."""
    sql = (
        _ctes(scope, one_policy=False)
        + """
    SELECT must.id, must.policy_id, must.due
      FROM must
      LEFT JOIN done ON done.person_id = must.id AND done.policy_id = must.policy_id
     WHERE done.person_id IS NULL
     ORDER BY must.id, must.due
    """
    )
    result: dict[int, list[tuple[int, datetime.date]]] = {}
    for person_id, policy_id, due in _fetch(sql, _params(scope)):
        result.setdefault(person_id, []).append((policy_id, due))
    return result
