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

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from people.models import Organisation, Person, Unit
from people.units import create_unit

from .models import Event, EventVerb
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
    partial: bool = False,
) -> ImportResult:
    """Bring the organisation's people and units in line with the HR file, all or nothing.

    `partial`: the file holds only some people (new hires, say): add and update them, and
    deactivate nobody who is missing from it.
    """
    rows = parse(text)
    result = ImportResult(dry_run=dry_run)
    today = timezone.localdate()
    with transaction.atomic():
        # One import per organisation at a time: a second one waits and then sees the first's result.
        Organisation.objects.select_for_update().get(pk=organisation.pk)
        units: dict[tuple[str, ...], Unit] = {}

        def unit_at(path: tuple[str, ...]) -> Unit:
            if path not in units:
                parent = unit_at(path[:-1]) if len(path) > 1 else None
                existing = Unit.objects.filter(
                    organisation=organisation, parent=parent, name=path[-1]
                ).first()
                if existing is None:
                    result.units_created += 1
                units[path] = existing or create_unit(organisation, name=path[-1], parent=parent)
            return units[path]

        existing = {
            p.employee_number: p
            for p in Person.objects.filter(organisation=organisation)
            .exclude(employee_number="")
            .prefetch_related("managed_units")
        }
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

        in_file = {row.employee_number for row in rows}
        leavers = [
            p
            for number, p in existing.items()
            if not partial and number not in in_file and p.is_active and not p.is_superuser
        ]
        # Deactivated, never deleted: their acknowledgements stay as evidence. Two statements for
        # all leavers, so that a reorganisation with hundreds of them costs no more than one.
        leaver_ids = [p.pk for p in leavers]
        Person.objects.filter(pk__in=leaver_ids).update(is_active=False)
        Person.managed_units.through.objects.filter(person_id__in=leaver_ids).delete()
        result.deactivated = len(leavers)

        Event.objects.create(
            organisation=organisation,
            actor=by,
            verb=EventVerb.IMPORTED,
            detail={**result.as_detail(), "rows": len(rows), "partial": partial},
        )
        if dry_run:
            transaction.set_rollback(True)
    return result


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
