"""The person list of one policy as files: CSV for Excel in Norway and an XLSX workbook.

Both stream: rows arrive from dashboards.iter_person_rows and leave without being held in memory.
Names and addresses are data, never formulas, whatever they start with.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

import xlsxwriter
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .dashboards import PersonRow

HEADERS = [
    _("Ansattnummer"),
    _("Fornavn"),
    _("Etternavn"),
    _("E-post"),
    _("Enhet"),
    _("Status"),
    _("Bekreftet versjon"),
    _("Bekreftet dato"),
    _("Frist"),
    _("Forfalt"),
]


def cells(row: PersonRow) -> list:
    """One person's row of the export, in the order of HEADERS."""
    acknowledged = timezone.localtime(row.acknowledged_at) if row.acknowledged_at else None
    return [
        row.employee_number,
        row.first_name,
        row.last_name,
        row.email,
        row.unit_name or "",
        row.status_label,
        row.acknowledged_number or "",
        acknowledged.strftime("%d.%m.%Y %H:%M") if acknowledged else "",
        row.due.strftime("%d.%m.%Y"),
        "ja" if row.is_overdue else "nei",
    ]


def csv_safe(value):
    """Text that Excel would run as a formula (=, +, -, @ first) is kept as text with a leading '."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


class _Line:
    """A file-like object whose write() returns what it was given: csv.writer into a generator."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[PersonRow]) -> Iterator[bytes]:
    """The person list as CSV for Excel in Norway (semicolons, UTF-8 with BOM), in chunks."""
    writer = csv.writer(_Line(), delimiter=";", lineterminator="\r\n")
    # The byte order mark makes Excel read the file as UTF-8 (æ, ø and å intact).
    yield ("\ufeff" + writer.writerow([str(h) for h in HEADERS])).encode()
    batch: list[str] = []
    for row in rows:
        batch.append(writer.writerow([csv_safe(cell) for cell in cells(row)]))
        if len(batch) >= 500:
            yield "".join(batch).encode()
            batch = []
    if batch:
        yield "".join(batch).encode()


def write_xlsx(target, rows: Iterable[PersonRow]) -> None:
    """Write the person list as a worksheet; constant_memory flushes each row to disk as it goes."""
    # Names and addresses are data, never formulas or links, whatever they start with.
    workbook = xlsxwriter.Workbook(
        target, {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    sheet = workbook.add_worksheet(str(_("Bekreftelser")))
    bold = workbook.add_format({"bold": True})
    sheet.write_row(0, 0, [str(h) for h in HEADERS], bold)
    sheet.set_column(0, 0, 14)
    sheet.set_column(1, 4, 24)
    sheet.set_column(5, 5, 36)
    sheet.set_column(6, 9, 16)
    for index, row in enumerate(rows, start=1):
        sheet.write_row(index, 0, cells(row))
    workbook.close()
