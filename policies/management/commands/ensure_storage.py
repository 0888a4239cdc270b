"""`manage.py ensure_storage`: create the blob container for uploads when it does not exist yet.

Run at deployment (and by `make run`); does nothing with local-disk storage. Idempotent.
"""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Opprett lagringsbeholderen for opplastede bilder hvis den mangler (Azure Blob)."

    def handle(self, *args, **options):
        container = getattr(default_storage, "client", None)
        if container is None:
            self.stdout.write("Bilder lagres på lokal disk; ingenting å opprette.")
            return
        if container.exists():
            self.stdout.write(f"Beholderen «{container.container_name}» finnes.")
            return
        container.create_container()
        self.stdout.write(f"Opprettet beholderen «{container.container_name}».")
