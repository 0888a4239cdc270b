"""Import people and units from the HR system's CSV export (`manage.py import_people`).

The whole file is validated before anything is written; then everything is written in one
transaction, or nothing is. Re-running the same file changes nothing. People missing from a new file
are deactivated, never deleted: their confirmations are evidence. See README, "Import av personer
fra HR-systemet", for the format.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from people.models import Organisation, Person, Unit
from people.units import create_unit, move_unit

from .audit import record_event
from .models import EventVerb
from .plaintext import clean_line

# Column names as HR exports them, and the spellings we accept for each.
COLUMNS = {
    "employee_number": ("ansattnummer", "ansattnr", "ansattnr."),
    "first_name": ("fornavn",),
    "last_name": ("etternavn",),
    "email": ("epost", "e-post", "e-postadresse"),
    "unit": ("enhet",),
    "manages": ("leder_for", "leder for"),
    "elected": ("folkevalgt",),
}
REQUIRED = ("employee_number", "first_name", "last_name", "email", "unit")
UNIT_SEPARATOR = "/"
MANAGES_SEPARATOR = "|"
YES = {"ja", "j", "yes", "y", "true", "1"}
NO = {"nei", "n", "no", "false", "0", ""}


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"Linje {self.line}, {self.field}: {self.reason}"


class HrImportError(Exception):
    """The file has errors; nothing was imported. `errors` lists every one of them."""

    def __init__(self, errors: list[RowError]):
        super().__init__(f"{len(errors)} feil i filen; ingenting er importert.")
        self.errors = errors


class TooManyLeavers(Exception):
    """The file would deactivate more than the allowed share of the organisation; nothing changed.

    Most often a truncated export. `force=True` (`--force`) imports it anyway.
    """

    def __init__(self, *, leaving: int, active: int, limit_percent: int):
        share = round(100 * leaving / active)
        super().__init__(
            f"Filen ville deaktivere {leaving} av {active} aktive personer ({share} %), mer enn "
            f"grensen på {limit_percent} %. Er filen ufullstendig? Ingenting er endret. Er den "
            "riktig, kjør importen på nytt med --force."
        )
        self.leaving = leaving
        self.active = active


@dataclass(frozen=True)
class HrRow:
    line: int
    employee_number: str
    first_name: str
    last_name: str
    email: str
    unit: tuple[str, ...]
    manages: tuple[tuple[str, ...], ...]
    elected: bool


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    reactivated: int = 0
    deactivated: int = 0
    units_created: int = 0
    units_moved: int = 0
    dry_run: bool = False
    details: list[str] = field(default_factory=list)

    def as_detail(self) -> dict:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "reactivated": self.reactivated,
            "deactivated": self.deactivated,
            "units_created": self.units_created,
            "units_moved": self.units_moved,
        }


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), or Windows-1252 as older Norwegian Excel versions save CSV."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _unit_path(value: str) -> tuple[str, ...] | None:
    parts = tuple(clean_line(part) for part in value.split(UNIT_SEPARATOR))
    if not value.strip() or any(not part for part in parts):
        return None
    return parts


def parse(text: str) -> list[HrRow]:
    """Every row of the file, validated; HrImportError with every problem found otherwise."""
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise HrImportError([RowError(1, "fil", "filen er tom")])
    delimiter = ";" if lines[0].count(";") >= lines[0].count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = [name.strip().lower() for name in next(reader)]
    positions: dict[str, int] = {}
    errors: list[RowError] = []
    for key, names in COLUMNS.items():
        found = [i for i, name in enumerate(header) if name in names]
        if found:
            positions[key] = found[0]
        elif key in REQUIRED:
            errors.append(RowError(1, names[0], "kolonnen mangler i overskriftslinjen"))
    if errors:
        raise HrImportError(errors)

    rows: list[HrRow] = []
    seen_numbers: dict[str, int] = {}
    seen_emails: dict[str, int] = {}
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            errors.append(
                RowError(line, "linje", f"har {len(cells)} felt, overskriften har {len(header)}")
            )
            continue

        def cell(key: str, cells=cells) -> str:
            # Names and units are shown everywhere: no bidi overrides or invisible characters.
            return clean_line(cells[positions[key]]) if key in positions else ""

        number, first, last, email = (
            cell("employee_number"),
            cell("first_name"),
            cell("last_name"),
            cell("email").lower(),
        )
        if not number:
            errors.append(RowError(line, "ansattnummer", "mangler"))
        elif len(number) > 40:
            errors.append(RowError(line, "ansattnummer", "er lengre enn 40 tegn"))
        elif number in seen_numbers:
            errors.append(
                RowError(
                    line, "ansattnummer", f"«{number}» står også på linje {seen_numbers[number]}"
                )
            )
        else:
            seen_numbers[number] = line
        for label, value in (("fornavn", first), ("etternavn", last)):
            if not value:
                errors.append(RowError(line, label, "mangler"))
            elif len(value) > 150:
                errors.append(RowError(line, label, "er lengre enn 150 tegn"))
        try:
            validate_email(email)
        except ValidationError:
            errors.append(RowError(line, "epost", f"«{email}» er ikke en gyldig e-postadresse"))
        else:
            if email in seen_emails:
                errors.append(
                    RowError(line, "epost", f"«{email}» står også på linje {seen_emails[email]}")
                )
            seen_emails.setdefault(email, line)
        unit = _unit_path(cell("unit"))
        if unit is None:
            errors.append(
                RowError(line, "enhet", "mangler eller har et tomt ledd (skriv «Helse / Sykehjem»)")
            )
        elif any(len(part) > 200 for part in unit):
            errors.append(RowError(line, "enhet", "et ledd er lengre enn 200 tegn"))
        manages: list[tuple[str, ...]] = []
        for text_path in filter(
            None, (p.strip() for p in cell("manages").split(MANAGES_SEPARATOR))
        ):
            path = _unit_path(text_path)
            if path is None:
                errors.append(RowError(line, "leder_for", f"«{text_path}» har et tomt ledd"))
            else:
                manages.append(path)
        elected_text = cell("elected").lower()
        if elected_text not in YES | NO:
            errors.append(
                RowError(line, "folkevalgt", f"«{elected_text}» må være «ja» eller «nei»")
            )
        rows.append(
            HrRow(
                line=line,
                employee_number=number,
                first_name=first,
                last_name=last,
                email=email,
                unit=unit or (),
                manages=tuple(manages),
                elected=elected_text in YES,
            )
        )
    if not rows and not errors:
        errors.append(RowError(2, "fil", "filen har ingen personer"))
    if errors:
        raise HrImportError(errors)
    return rows


def import_people(
    *,
    organisation: Organisation,
    text: str,
    by: Person | None = None,
    dry_run: bool = False,
    force: bool = False,
    partial: bool = False,
) -> ImportResult:
    """Bring the organisation's people and units in line with the HR file, all or nothing.

    `partial`: the file holds only some people (new hires, say): add and update them, and
    deactivate nobody who is missing from it.

    Refuses (TooManyLeavers) a file that would deactivate more than
    settings.HR_IMPORT_MAX_DEACTIVATION_PERCENT of the organisation's active people, unless `force`.
    """
    rows = parse(text)
    result = ImportResult(dry_run=dry_run)
    today = timezone.localdate()
    with transaction.atomic():
        # One import per organisation at a time: a second one waits and then sees the first's result.
        Organisation.objects.select_for_update().get(pk=organisation.pk)
        # Then every person of the organisation, in id order, before anything changes. A
        # confirmation locks its person first and then the tally rows of that person's class
        # (policies_acknowledgement_summarise); the moves below update tally rows of many classes,
        # one person after the other. Holding all the people before the first of those updates
        # means a confirmation either finishes before the import touches any tally row, or waits
        # for its person until the import has committed: the two never hold what the other waits
        # for (tests/test_hr_import.py shows the deadlock this prevents).
        list(
            Person.objects.filter(organisation=organisation)
            .order_by("pk")
            .select_for_update(no_key=True)
            .values_list("pk", flat=True)
        )
        existing = {
            p.employee_number: p
            for p in Person.objects.filter(organisation=organisation)
            .exclude(employee_number="")
            .prefetch_related("managed_units")
        }
        in_file = {row.employee_number for row in rows}
        leavers = [
            p
            for number, p in existing.items()
            if not partial and number not in in_file and p.is_active and not p.is_superuser
        ]
        if not force:
            _refuse_too_many_leavers(organisation, len(leavers))
        unit_at = _UnitResolver(organisation, rows, result)

        for row in rows:
            unit = unit_at(row.unit)
            managed = {unit_at(path).pk for path in row.manages}
            person = existing.get(row.employee_number)
            if person is None:
                person = Person(
                    username=_free_username(f"{row.employee_number}@{organisation.slug}".lower()),
                    organisation=organisation,
                    employee_number=row.employee_number,
                )
                person.set_unusable_password()
                _apply(person, row, unit, today)
                person.save()
                person.managed_units.set(managed)
                result.created += 1
                continue
            changed = _apply(person, row, unit, today)
            if not person.is_active:
                person.is_active = True
                person.left_on = None
                # Back after a time away: deadlines count from today, not from before they left.
                person.unit_since = today
                result.reactivated += 1
                changed = True
            if {u.pk for u in person.managed_units.all()} != managed:
                person.managed_units.set(managed)
                changed = True
            if changed:
                person.save()
                result.updated += 1
            else:
                result.unchanged += 1

        # Deactivated, never deleted: their acknowledgements stay as evidence. Two statements for
        # all leavers, so that a reorganisation with hundreds of them costs no more than one.
        leaver_ids = [p.pk for p in leavers]
        Person.objects.filter(pk__in=leaver_ids).update(is_active=False, left_on=today)
        Person.managed_units.through.objects.filter(person_id__in=leaver_ids).delete()
        result.deactivated = len(leavers)

        record_event(
            EventVerb.IMPORTED,
            organisation=organisation,
            by=by,
            **result.as_detail(),
            rows=len(rows),
            forced=force,
            partial=partial,
        )
        if dry_run:
            transaction.set_rollback(True)
    return result


def _refuse_too_many_leavers(organisation: Organisation, leaving: int) -> None:
    limit = settings.HR_IMPORT_MAX_DEACTIVATION_PERCENT
    active = Person.objects.filter(
        organisation=organisation, is_active=True, is_superuser=False
    ).count()
    if leaving and leaving * 100 > limit * active:
        raise TooManyLeavers(leaving=leaving, active=active, limit_percent=limit)


class _UnitResolver:
    """The unit at a path of names from the file, found, moved or created.

    HR systems name units by their path ("Helse / Sykehjem / Avdeling A"). When a path is new, a
    unit with the same name that the file no longer mentions anywhere has moved in the HR system:
    it is moved there with its sub-units (so policy audiences and managers follow it) instead of a
    new empty unit appearing beside it. When two such units share the name, nothing is guessed: a
    new unit is created.
    """

    def __init__(self, organisation: Organisation, rows: list[HrRow], result: ImportResult):
        self.organisation = organisation
        self.result = result
        self.cache: dict[tuple[str, ...], Unit] = {}
        mentioned: set[tuple[str, ...]] = set()
        for row in rows:
            for path in (row.unit, *row.manages):
                mentioned.update(path[:n] for n in range(1, len(path) + 1))
        units = {u.pk: u for u in Unit.objects.filter(organisation=organisation)}
        self.vacated: dict[str, list[Unit]] = {}
        for unit in units.values():
            if _names_of(unit, units) not in mentioned:
                self.vacated.setdefault(unit.name, []).append(unit)

    def __call__(self, path: tuple[str, ...]) -> Unit:
        if path not in self.cache:
            parent = self(path[:-1]) if len(path) > 1 else None
            name = path[-1]
            unit = Unit.objects.filter(
                organisation=self.organisation, parent=parent, name=name
            ).first()
            if unit is None:
                unit = self._moved_here(name, parent)
            if unit is None:
                unit = create_unit(self.organisation, name=name, parent=parent)
                self.result.units_created += 1
            self.cache[path] = unit
        return self.cache[path]

    def _moved_here(self, name: str, parent: Unit | None) -> Unit | None:
        candidates = self.vacated.get(name, [])
        if len(candidates) != 1:
            return None
        unit = candidates[0]
        if parent is not None and parent.path.startswith(unit.path):
            return None  # It cannot move under itself.
        del self.vacated[name]
        self.result.units_moved += 1
        return move_unit(unit, parent=parent)


def _names_of(unit: Unit, units: dict[int, Unit]) -> tuple[str, ...]:
    """The path of names from the top of the organisation down to `unit`."""
    names = []
    node: Unit | None = unit
    while node is not None:
        names.append(node.name)
        node = units.get(node.parent_id) if node.parent_id else None
    return tuple(reversed(names))


def _apply(person: Person, row: HrRow, unit: Unit, today) -> bool:
    """Copy the row onto the person; True if anything changed."""
    changed = False
    for attr, value in (
        ("first_name", row.first_name),
        ("last_name", row.last_name),
        ("email", row.email),
        ("is_elected_official", row.elected),
    ):
        if getattr(person, attr) != value:
            setattr(person, attr, value)
            changed = True
    if person.unit_id != unit.pk:
        # A new unit means new policies to confirm, with a deadline counted from today.
        if person.pk is not None:
            person.unit_since = today
        person.unit = unit
        changed = True
    return changed


def _free_username(wanted: str) -> str:
    username, n = wanted, 1
    while Person.objects.filter(username=username).exists():
        n += 1
        username = f"{wanted}-{n}"
    return username
