"""`manage.py apply_retention [--dry-run]`: the nightly data-lifecycle job by hand (docs/personvern.md).

The worker runs the same every night (operations/tasks.py); this command is for a dry run, or for
running it at once after lowering a kommune's retention."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from operations.retention import apply_retention


class Command(BaseCommand):
    help = (
        "Pseudonymiser personer som sluttet for lenger siden enn kommunens oppbevaringstid. "
        "Arbeideren gjør det samme hver natt; trygt å kjøre flere ganger."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Vis hvem som ville blitt pseudonymisert, uten å endre noe.",
        )

    def handle(self, *args, dry_run: bool = False, **options):
        result = apply_retention(dry_run=dry_run)
        for slug, ids in result.pseudonymised.items():
            verb = "ville blitt" if dry_run else "ble"
            self.stdout.write(f"{slug}: {len(ids)} person(er) {verb} pseudonymisert (id {ids}).")
        if dry_run:
            self.stdout.write(f"{result.people} person(er) totalt (tørrkjøring, ingenting endret).")
            return
        self.stdout.write(
            f"{result.people} person(er) pseudonymisert, {result.started_clock} fikk sluttdato i dag."
        )
