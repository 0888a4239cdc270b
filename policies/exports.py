"""The person list of one policy as files: CSV for Excel in Norway and an XLSX workbook.

Both stream: rows arrive from dashboards.iter_person_rows and leave without being held in memory.
Names and addresses are data, never formulas, whatever they start with.
"""

from __future__ import annotations

import csv
import datetime
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import xlsxwriter
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .dashboards import PersonRow
from .formats import date_text, datetime_text
from .models import Confirmation

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


class Cells:
    """Rows of the export, in the order of HEADERS.

    Made once per export: the time zone, today and the status labels are looked up once instead
    of for every row (three time zone lookups and a lazy translation per row were most of the
    time of a 20 000-row export).
    """

    def __init__(self) -> None:
        self.zone = timezone.get_current_timezone()
        self.today = timezone.localdate()
        self.labels = {choice.value: str(choice.label) for choice in Confirmation}
        self.overdue = {True: str(_("ja")), False: str(_("nei"))}

    def local(self, moment: datetime.datetime) -> datetime.datetime:
        return moment.astimezone(self.zone)

    def __call__(self, row: PersonRow) -> list:
        return [
            row.employee_number,
            row.first_name,
            row.last_name,
            row.email,
            row.unit_name or "",
            self.labels[row.status],
            row.acknowledged_number or "",
            datetime_text(row.acknowledged_at, self.zone) if row.acknowledged_at else "",
            date_text(row.due),
            self.overdue[row.overdue_on(self.today)],
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
    """The person list as CSV for Excel in Norway (semicolons, UTF-8 with BOM), in chunks.

    The header and the words of the cells are put into words here, in the language of the
    request: the chunks are only made while the response streams, after the view has returned."""
    writer = csv.writer(_Line(), delimiter=";", lineterminator="\r\n")
    header = writer.writerow([str(h) for h in HEADERS])
    return _csv_chunks(writer, header, rows, Cells())


def _csv_chunks(writer, header: str, rows: Iterable[PersonRow], cells: Cells) -> Iterator[bytes]:
    # The byte order mark makes Excel read the file as UTF-8 (æ, ø and å intact).
    yield ("\ufeff" + header).encode()
    batch: list[str] = []
    for row in rows:
        batch.append(writer.writerow([csv_safe(cell) for cell in cells(row)]))
        if len(batch) >= 500:
            yield "".join(batch).encode()
            batch = []
    if batch:
        yield "".join(batch).encode()


@dataclass(frozen=True)
class ExportTitle:
    """The title block of a workbook: what the list is, and who took it out when."""

    kommune: str
    policy: str
    version: int | None
    unit: str
    exported_at: datetime.datetime
    exported_by: str


def write_xlsx(target, rows: Iterable[PersonRow], title: ExportTitle | None = None) -> None:
    """Write the person list as a worksheet: a title block, then a frozen, filterable table whose
    dates are real date cells. constant_memory flushes each row to disk as it goes."""
    # Names and addresses are data, never formulas or links, whatever they start with.
    workbook = xlsxwriter.Workbook(
        target, {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    sheet = workbook.add_worksheet(str(_("Bekreftelser")))
    bold = workbook.add_format({"bold": True})
    heading = workbook.add_format({"bold": True, "font_size": 14})
    date = workbook.add_format({"num_format": "dd.mm.yyyy"})
    moment = workbook.add_format({"num_format": "dd.mm.yyyy hh:mm"})
    first = 0
    if title is not None:
        sheet.write(0, 0, str(_("Bekreftelser: %(policy)s") % {"policy": title.policy}), heading)
        facts = [
            (_("Kommune"), title.kommune),
            (_("Retningslinje"), title.policy),
            (_("Versjon"), title.version if title.version is not None else "–"),
            (_("Enhet"), title.unit),
            (_("Eksportert"), datetime_text(title.exported_at)),
            (_("Eksportert av"), title.exported_by),
        ]
        for offset, (label, value) in enumerate(facts, start=1):
            sheet.write(offset, 0, str(label), bold)
            sheet.write(offset, 1, value)
        first = len(facts) + 2
    sheet.write_row(first, 0, [str(h) for h in HEADERS], bold)
    sheet.set_column(0, 0, 14)
    sheet.set_column(1, 4, 24)
    sheet.set_column(5, 5, 36)
    sheet.set_column(6, 6, 16)
    sheet.set_column(7, 7, 18, moment)
    sheet.set_column(8, 8, 12, date)
    sheet.set_column(9, 9, 10)
    # The header row stays in view while scrolling, and every column can be filtered.
    sheet.freeze_panes(first + 1, 0)
    last = first
    cells = Cells()
    for last, row in enumerate(rows, start=first + 1):  # noqa: B007 - `last` is used below.
        values = cells(row)
        sheet.write_row(last, 0, values[:7])
        if row.acknowledged_at:
            sheet.write_datetime(
                last, 7, cells.local(row.acknowledged_at).replace(tzinfo=None), moment
            )
        else:
            sheet.write_blank(last, 7, None, moment)
        sheet.write_datetime(last, 8, datetime.datetime.combine(row.due, datetime.time()), date)
        sheet.write(last, 9, values[9])
    sheet.autofilter(first, 0, last, len(HEADERS) - 1)
    workbook.close()
