"""Manager-side aggregate reads: who must confirm what, who has, and who is overdue.

Nothing here restates the rule. Who must confirm which version by when is the view
policies_obligation (policies.models.Obligation); "a unit and its sub-units" is
Unit.objects.subtree_of; both are used as they are:

- the person lists, the exports, the reminders' recipients and the digest are rows of
  Obligation in the manager's scope;
- the overview sums ComplianceSummary, a cache of those rows counted per unit and policy that
  triggers keep in the same transaction as every change that moves it (see overview());
  tests/test_compliance_summary.py compares it with the rows themselves after every step of
  generated histories.

tests/test_obligation_property.py generates organisations and asserts that every figure here
equals the person side for every person.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, IntegerField, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from people.models import Person, Unit

from .models import Confirmation, Obligation, Policy, Requirement
from .translations import ShownTitle, shown_title, translated_title

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

    def units(self):
        """The units in scope (an empty tuple of paths is nobody's units)."""
        units = Unit.objects.filter(organisation_id=self.organisation_id)
        if self.is_whole_organisation:
            return units
        return units.subtree_of(self.unit_paths)

    def people(self):
        """The active people in scope."""
        people = Person.objects.filter(organisation_id=self.organisation_id, is_active=True)
        if self.is_whole_organisation:
            return people
        return people.filter(unit__in=self.units())

    def obligations(self):
        """The rows of policies_obligation for the people in scope."""
        rows = Obligation.objects.filter(organisation_id=self.organisation_id)
        if self.is_whole_organisation:
            return rows
        return rows.filter(unit__in=self.units())


def _without_jit(cursor) -> None:
    # These queries are estimated as expensive (many people times many policies) but run in tens of
    # milliseconds; PostgreSQL's JIT would spend a second compiling them. Off for this transaction.
    cursor.execute("SET LOCAL jit = off")


def _sql(queryset) -> tuple[str, tuple]:
    """A QuerySet as SQL with %s placeholders, to use as a common table expression."""
    return queryset.query.sql_with_params()


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
    # The policy's name for the reader (policies.translations.shown_title).
    title: ShownTitle


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


def _rows_sql(scope: Scope, row_units: list[Unit]) -> tuple[str, tuple]:
    """(unit id, row unit id) for each unit in scope under a row unit: the deepest one wins."""
    parts = [
        scope.units()
        .subtree_of([row])
        .order_by()
        .annotate(
            row_id=Value(row.pk, output_field=IntegerField()),
            depth=Value(len(row.path), output_field=IntegerField()),
        )
        .values("pk", "row_id", "depth")
        for row in row_units
    ]
    if not parts:
        return "SELECT NULL::bigint AS id, NULL::bigint AS row_id WHERE false", ()
    union = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    sql, params = _sql(union)
    return (
        f"SELECT DISTINCT ON (x.id) x.id, x.row_id FROM ({sql}) AS x(id, row_id, depth) "
        "ORDER BY x.id, x.depth DESC",
        params,
    )


def overview(
    scope: Scope,
    row_units: list[Unit],
    *,
    today: datetime.date | None = None,
    language: str = settings.LANGUAGE_CODE,
) -> Overview:
    """Compliance per policy (worst first) and per row unit (sub-units rolled up) in `scope`.

    `row_units` are the units to show as rows (e.g. the children of the unit being looked at);
    people in scope below none of them are counted in a row with unit None. Two queries whatever
    the size of the organisation: the policies in force, and one statement for the counts.

    The counts are sums of ComplianceSummary, the rows of policies_obligation counted per unit and
    policy and kept by triggers in the same transaction as every change that moves them: an
    index-only range scan of the organisation's rows (about one per unit and policy), never one
    row per person. Overdue is decided here, from the stored due dates: a person who has not
    confirmed is overdue when their due date has passed (a NULL date passed before they were
    counted). The people per row come from person_class_idx. `today` (for tests) is the local
    date unless given. Each policy is named for a reader of `language`, read with the policies.
    """
    today = today or timezone.localdate()
    requirements = {
        r.policy_id: r
        for r in Requirement.objects.filter(organisation_id=scope.organisation_id)
        .select_related("policy__organisation")
        .annotate(
            original_language=F("current_version__language"),
            translated_title=translated_title(language, "current_version"),
        )
    }
    result = Overview()
    by_policy = {pk: Tally() for pk in requirements}
    by_row: dict[int, UnitRow] = {}
    # A manager whose units are all gone has an empty scope: nobody to count.
    if requirements and (scope.is_whole_organisation or scope.unit_paths):
        rows_sql, rows_params = _rows_sql(scope, row_units)
        people_sql, people_params = _sql(
            scope.people()
            .annotate(class_unit=Coalesce("unit_id", 0))
            .values("class_unit")
            # count(*), not count(id): read from person_class_idx alone.
            .annotate(people=Count("*"))
            .values_list("class_unit", "people")
        )
        in_scope, in_scope_params = "", ()
        if not scope.is_whole_organisation:
            units_sql, in_scope_params = _sql(scope.units().order_by().values("pk"))
            in_scope = f"AND s.unit_id IN ({units_sql})"
        sql = f"""
        WITH rows AS ({rows_sql})
        SELECT s.policy_id, COALESCE(rw.row_id, 0), sum(s.must)::bigint,
               sum(s.compliant)::bigint,
               COALESCE(sum(s.must - s.compliant)
                        FILTER (WHERE s.due IS NULL OR s.due < %s), 0)::bigint
          FROM policies_compliancesummary s
          LEFT JOIN rows rw ON rw.id = s.unit_id
         WHERE s.organisation_id = %s {in_scope}
         GROUP BY 1, 2
        UNION ALL
        SELECT NULL, COALESCE(rw.row_id, 0), sum(c.people)::bigint, 0, 0
          FROM ({people_sql}) AS c(unit_id, people) LEFT JOIN rows rw ON rw.id = c.unit_id
         GROUP BY 2
        """
        params = (
            *rows_params,
            today,
            scope.organisation_id,
            *in_scope_params,
            *people_params,
        )
        # No transaction and no `SET LOCAL jit = off` here (as the person lists need): the plan
        # reads one row per unit and policy, estimated far below jit_above_cost.
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            counts = cursor.fetchall()
        for policy_id, row_id, must, compliant, overdue in counts:
            row = by_row.setdefault(row_id, UnitRow(unit=None, tally=Tally()))
            if policy_id is None:
                row.people += must
                continue
            for tally in (by_policy[policy_id], row.tally, result.total):
                tally.must += must
                tally.compliant += compliant
                tally.overdue += overdue

    result.policies = sorted(
        (
            PolicyRow(
                policy=requirements[pk].policy,
                tally=t,
                title=shown_title(
                    original=requirements[pk].policy.title,
                    original_language=requirements[pk].original_language,
                    translated=requirements[pk].translated_title,
                    wanted=language,
                ),
            )
            for pk, t in by_policy.items()
        ),
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

# Sort keys a page may ask for, mapped to fixed orderings; anything else falls back to the name.
_NAME = ("person__last_name", "person__first_name", "person_id")
SORTS = {
    "navn": (*_NAME,),
    "enhet": (F("unit__name").asc(nulls_first=True), *_NAME),
    "status": ("status", "due", *_NAME),
    "dato": (F("acknowledged_at").asc(nulls_first=True), *_NAME),
    "frist": ("due", *_NAME),
}


def sort_clause(sort: str) -> tuple[str, tuple]:
    """('navn', ordering) for a sort key like '-navn'; unknown keys sort by name."""
    key = sort.removeprefix("-")
    if key not in SORTS:
        return "navn", SORTS["navn"]
    if sort.startswith("-"):
        # Reverse every column so that ties stay stable in the other direction too.
        columns = tuple(
            F(c.expression.name if hasattr(c, "expression") else c).desc(nulls_last=True)
            for c in SORTS[key]
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
        return str(Confirmation(self.status).label)

    @property
    def is_confirmed(self) -> bool:
        return self.status == Confirmation.CONFIRMED

    @property
    def is_overdue(self) -> bool:
        return self.overdue_on(timezone.localdate())

    def overdue_on(self, today: datetime.date) -> bool:
        return not self.is_confirmed and self.due < today


_ROW_FIELDS = (
    "person_id",
    "person__first_name",
    "person__last_name",
    "person__email",
    "person__employee_number",
    "unit__name",
    "acknowledged_number",
    "acknowledged_at",
    "due",
    "status",
    "required_number",
)


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


def _listed(scope: Scope, policy: Policy, *, ordering, missing_only: bool):
    rows = scope.obligations().for_policy(policy)
    if missing_only:
        rows = rows.missing()
    return rows.order_by(*ordering).values_list(*_ROW_FIELDS)


def person_page(
    scope: Scope, policy: Policy, *, sort: str = "navn", missing_only: bool = False, page: int = 1
) -> PersonPage:
    """One page of the people who must confirm `policy` in `scope`: two queries (totals, rows)."""
    sort, ordering = sort_clause(sort)
    today = timezone.localdate()
    with transaction.atomic(), connection.cursor() as cursor:
        _without_jit(cursor)
        totals = (
            scope.obligations()
            .for_policy(policy)
            .aggregate(
                total=Count("person_id"),
                compliant=Count("person_id", filter=Q(status=Confirmation.CONFIRMED)),
                overdue=Count(
                    "person_id", filter=Q(status__lt=Confirmation.CONFIRMED, due__lt=today)
                ),
            )
        )
        shown = totals["total"] - totals["compliant"] if missing_only else totals["total"]
        pages = max(1, -(-shown // PAGE_SIZE))
        # A page past the end (an old link after people confirmed) shows the last page instead.
        page = min(max(1, page), pages)
        offset = (page - 1) * PAGE_SIZE
        listed = _listed(scope, policy, ordering=ordering, missing_only=missing_only)
        rows = [PersonRow(*r) for r in listed[offset : offset + PAGE_SIZE]]
    return PersonPage(
        rows=rows,
        total=totals["total"],
        compliant=totals["compliant"],
        overdue=totals["overdue"],
        page=page,
        pages=pages,
        missing_only=missing_only,
        sort=sort,
    )


def iter_person_rows(
    scope: Scope, policy: Policy, *, sort: str = "navn", missing_only: bool = False
) -> Iterator[PersonRow]:
    """Every person in the list, streamed through a server-side cursor in chunks (flat memory)."""
    _, ordering = sort_clause(sort)
    listed = _listed(scope, policy, ordering=ordering, missing_only=missing_only)
    # The stream runs after the view has returned, in a read-only transaction of its own: JIT is
    # switched off with SET LOCAL (gone at the end of the transaction, so nothing leaks into a pooled
    # server connection), and the server-side cursor of .iterator() lives only inside it, which is
    # what PgBouncer's transaction pooling allows (with DISABLE_SERVER_SIDE_CURSORS behind PgBouncer
    # it is a client-side one). A client that hangs up closes the generator and rolls it back.
    with transaction.atomic():
        with connection.cursor() as setup:
            setup.execute("SET LOCAL jit = off")
        for row in listed.iterator(chunk_size=STREAM_CHUNK):
            yield PersonRow(*row)


def missing_people(scope: Scope, policy: Policy) -> list[int]:
    """The ids of the people in scope who must confirm `policy` and have not (one query)."""
    rows = scope.obligations().for_policy(policy).missing().order_by("person_id")
    return list(rows.values_list("person_id", flat=True))


def outstanding_by_person(scope: Scope) -> dict[int, list[tuple[int, datetime.date]]]:
    """For everyone in scope: the policies they still must confirm, with their due dates."""
    rows = scope.obligations().missing().order_by("person_id", "due", "policy_id")
    result: dict[int, list[tuple[int, datetime.date]]] = {}
    for person_id, policy_id, due in rows.values_list("person_id", "policy_id", "due"):
        result.setdefault(person_id, []).append((policy_id, due))
    return result
