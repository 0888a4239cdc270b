"""`manage.py send_digest [--dry-run] [--organisation SLUG]`: the weekly e-mail digest (run from cron).

One e-mail per person with everything they still must confirm, and one per manager summarising their
units. Safe to run as often as cron likes: within an ISO week nobody gets the same digest twice.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from people.models import Organisation
from policies.reminders import send_digests, week_of


class Command(BaseCommand):
    help = (
        "Send the weekly digest: to each person what they must confirm, to each manager a summary."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Show what would be sent; send nothing."
        )
        parser.add_argument("--organisation", help="Only this organisation (slug).")

    def handle(self, *args, dry_run: bool, organisation: str | None, **options):
        organisations = Organisation.objects.order_by("slug")
        if organisation:
            organisations = organisations.filter(slug=organisation)
            if not organisations:
                raise CommandError(f"Fant ingen kommune med adressen «{organisation}».")
        today = timezone.localdate()
        prefix = "[prøvekjøring] " if dry_run else ""
        for org in organisations:
            result = send_digests(organisation=org, today=today, dry_run=dry_run)
            self.stdout.write(
                f"{prefix}{org.name}, uke {week_of(today):%G-W%V}: "
                f"{result.people} til ansatte, {result.managers} til ledere, "
                f"{result.already_sent} allerede sendt denne uken."
            )
