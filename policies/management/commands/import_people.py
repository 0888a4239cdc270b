"""`manage.py import_people FILE --organisation SLUG [--dry-run]`: people and units from HR's CSV."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from people.models import Organisation
from policies.hr_import import HrImportError, decode, import_people


class Command(BaseCommand):
    help = (
        "Import people and units from the HR system's CSV export. The whole file is checked first; "
        "nothing is changed if any row has an error. People missing from the file are deactivated."
    )

    def add_arguments(self, parser):
        parser.add_argument("csv_file", help="CSV from the HR system (see README).")
        parser.add_argument("--organisation", required=True, help="The kommune's address (slug).")
        parser.add_argument(
            "--dry-run", action="store_true", help="Check and count; change nothing."
        )
        parser.add_argument(
            "--partial",
            action="store_true",
            help="The file holds only some people (e.g. new hires): deactivate nobody missing from it.",
        )

    def handle(
        self, *args, csv_file: str, organisation: str, dry_run: bool, partial: bool, **options
    ):
        org = Organisation.objects.filter(slug=organisation).first()
        if org is None:
            raise CommandError(f"Fant ingen kommune med adressen «{organisation}».")
        try:
            text = decode(Path(csv_file).read_bytes())
        except OSError as error:
            raise CommandError(f"Kan ikke lese {csv_file}: {error.strerror}.") from error
        try:
            result = import_people(organisation=org, text=text, dry_run=dry_run, partial=partial)
        except HrImportError as error:
            for problem in error.errors:
                self.stderr.write(str(problem))
            raise CommandError(str(error)) from error
        prefix = "[prøvekjøring, ingenting lagret] " if dry_run else ""
        self.stdout.write(
            f"{prefix}{org.name}: {result.created} nye, {result.updated} endret, "
            f"{result.unchanged} uendret, {result.reactivated} aktivert igjen, "
            f"{result.deactivated} deaktivert, {result.units_created} nye enheter."
        )
