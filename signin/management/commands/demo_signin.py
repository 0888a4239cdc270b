"""Point the demo kommuner's sign-in at the local providers of scripts/oidc.sh (development only)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from people.models import Organisation
from signin.models import SignInConfig

FIXTURE = Path(settings.BASE_DIR) / "fixtures" / "demo_signin.json"
DEMO_CLIENT_ID = "handboka-demo"
DEMO_SECRET = "demo-hemmelighet"


class Command(BaseCommand):
    help = "Development only: sign-in settings for the demo kommuner against scripts/oidc.sh."

    def add_arguments(self, parser):
        parser.add_argument(
            "--port",
            type=int,
            default=int(os.environ.get("HANDBOOK_OIDC_PORT", "9401")),
            help="Port of the first provider (HANDBOOK_OIDC_PORT, default 9401).",
        )
        parser.add_argument(
            "--if-enabled", action="store_true", help="Do nothing unless DEMO_DATA."
        )

    def handle(self, *args, port: int, if_enabled: bool, **options):
        if not settings.DEMO_DATA:
            if if_enabled:
                return
            raise CommandError("Demo-pålogging brukes bare i utvikling (DEMO_DATA).")
        demo = {k: v for k, v in json.loads(FIXTURE.read_text()).items() if not k.startswith("_")}
        with transaction.atomic():
            for slug, spec in demo.items():
                organisation = Organisation.objects.filter(slug=slug).first()
                if organisation is None:
                    continue
                config = SignInConfig.objects.filter(organisation=organisation).first()
                config = config or SignInConfig(organisation=organisation)
                config.issuer = f"http://127.0.0.1:{port + spec['port_offset']}"
                config.entra_tenant_id = ""
                config.client_id = DEMO_CLIENT_ID
                config.set_client_secret(DEMO_SECRET)
                config.match_on = spec["match_on"]
                config.match_claim = spec["match_claim"]
                config.editor_groups = "\n".join(spec["editor_groups"])
                config.manager_groups = "\n".join(spec["manager_groups"])
                config.support_contact = spec["support_contact"]
                config.enabled = True
                config.save()
                self.stdout.write(f"{organisation.name}: pålogging via {config.issuer}")
