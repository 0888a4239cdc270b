"""`manage.py offboard_organisation <kommune> --to DIR [--remove --confirm <kommune>]`.

Without --remove: writes the organisation's archive (docs/offboarding.md) and changes nothing.
With --remove and --confirm repeating the organisation's address: exports and removes it in one
audited transaction.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from operations.offboarding import OffboardingError, export_organisation, offboard
from people.models import Organisation


class Command(BaseCommand):
    help = "Eksporter alt en kommune har i Håndboka, og fjern den eventuelt fra databasen."

    def add_arguments(self, parser):
        parser.add_argument("organisation", help="Kommunens adresse, f.eks. moskenes.")
        parser.add_argument("--to", required=True, type=Path, help="Mappen arkivet skrives til.")
        parser.add_argument("--remove", action="store_true", help="Fjern kommunen etter eksporten.")
        parser.add_argument("--confirm", default="", help="Gjenta kommunens adresse for å fjerne.")

    def handle(self, *args, organisation: str, to: Path, remove: bool, confirm: str, **options):
        try:
            org = Organisation.objects.get(slug=organisation)
        except Organisation.DoesNotExist as exc:
            raise CommandError(f"Fant ingen kommune med adressen «{organisation}».") from exc
        if not remove:
            archive = export_organisation(org, to=to)
            self.stdout.write(f"Eksportert til {archive.path} (SHA-256 {archive.sha256}).")
            return
        if confirm != org.slug:
            raise CommandError(
                f"Skriv --confirm {org.slug} for å fjerne {org.name}. Ingenting er endret."
            )
        try:
            archive = offboard(org, to=to)
        except OffboardingError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{org.name} er eksportert til {archive.path} (SHA-256 {archive.sha256}) og fjernet."
        )
