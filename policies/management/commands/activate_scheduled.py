"""Make scheduled versions current on their effective date. Run daily from cron; idempotent."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils import timezone

from policies.models import PolicyVersion, Status
from policies.workflow import activate_due_versions


class Command(BaseCommand):
    help = "Gjør planlagte versjoner gjeldende når datoen deres er kommet."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Vis hvilke versjoner som ville blitt gjeldende, uten å endre noe.",
        )

    def handle(self, *args, dry_run: bool = False, **options):
        today = timezone.localdate()
        due = (
            PolicyVersion.objects.filter(status=Status.SCHEDULED, effective_from__lte=today)
            .select_related("policy__organisation")
            .order_by("effective_from", "pk")
        )
        if dry_run:
            for version in due:
                self.stdout.write(
                    f"Ville aktivert {version.policy.organisation.slug}/{version.policy.slug} "
                    f"versjon {version.number} (gyldig fra {version.effective_from:%d.%m.%Y})"
                )
            self.stdout.write(f"{len(due)} versjon(er) ville blitt gjeldende (tørrkjøring).")
            return
        activated = activate_due_versions(today=today)
        self.stdout.write(f"{activated} versjon(er) ble gjeldende.")
