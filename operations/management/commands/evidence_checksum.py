"""`manage.py evidence_checksum [--json]`: counts and checksums of the evidence tables.

Run it against the database before a backup (or at the recovery target) and against the restored
database: the same output proves the restore brought every confirmation, version and event back.
"""

from __future__ import annotations

import json
from dataclasses import asdict

from django.core.management.base import BaseCommand

from operations.evidence import fingerprint


class Command(BaseCommand):
    help = "Skriv antall rader og SHA-256 for bekreftelser, hendelser og publiserte versjoner."

    def add_arguments(self, parser):
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="Skriv resultatet som JSON."
        )

    def handle(self, *args, as_json: bool = False, **options):
        tables = fingerprint()
        if as_json:
            self.stdout.write(json.dumps([asdict(t) for t in tables]))
            return
        for table in tables:
            self.stdout.write(f"{table.name:<20} {table.rows:>10} {table.sha256}")
