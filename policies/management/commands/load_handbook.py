"""Load the municipalities, their guidelines and background resources from fixtures/.

Idempotent: what exists is left alone, so running it again changes nothing and never overwrites a
version an editor has published since. Demo people are created only when DEMO_DATA is on.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from people.models import Organisation, Person, Unit
from people.units import get_or_create_unit
from policies.authoring import save_resource
from policies.fixtures import FIXTURES_DIR, FixtureError, read_document, read_toml, version_files
from policies.models import Policy, Resource, Synonym, Visibility
from policies.search import forget_plans
from policies.workflow import create_draft, publish


class DryRun(Exception):
    pass


class Command(BaseCommand):
    help = "Laster kommunene, retningslinjene og (i utvikling) demobrukerne fra fixtures/."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Vis hva som ville skjedd.")
        parser.add_argument(
            "--fixtures",
            default=str(FIXTURES_DIR),
            help="Mappen med fixtures (standard: fixtures/).",
        )

    def handle(self, *args, dry_run: bool = False, fixtures: str = "", **options):
        from pathlib import Path

        self.root = Path(fixtures)
        self.created: list[str] = []
        try:
            with transaction.atomic():
                self.load_organisations()
                self.load_policies()
                self.load_resources()
                self.load_synonyms()
                if settings.DEMO_DATA:
                    self.load_demo_people()
                if dry_run:
                    raise DryRun
        except DryRun:
            self.stdout.write("Tørrkjøring: ingenting ble lagret.")
        except FixtureError as exc:
            raise CommandError(str(exc)) from exc
        for line in self.created:
            self.stdout.write(f"  + {line}")
        self.stdout.write(
            self.style.SUCCESS(f"Håndboka lastet: {len(self.created)} nye objekter.")
            if self.created
            else "Håndboka er allerede lastet; ingenting å gjøre."
        )

    def unit_at(self, organisation: Organisation, path: str, *, create: bool) -> Unit | None:
        parent = None
        for name in (part.strip() for part in path.split("/")):
            if create:
                existed = Unit.objects.filter(
                    organisation=organisation, parent=parent, name=name
                ).exists()
                parent = get_or_create_unit(organisation, name=name, parent=parent)
                if not existed:
                    self.created.append(f"enhet {organisation.slug}: {path}")
            else:
                parent = Unit.objects.get(organisation=organisation, parent=parent, name=name)
        return parent

    def load_organisations(self) -> None:
        for entry in read_toml(self.root / "organisations.toml")["organisation"]:
            organisation, created = Organisation.objects.get_or_create(
                slug=entry["slug"], defaults={"name": entry["name"]}
            )
            if created:
                self.created.append(f"kommune {organisation.name}")
            for path in entry.get("units", []):
                self.unit_at(organisation, path, create=True)

    def load_policies(self) -> None:
        for policy_dir in sorted((self.root / "handbook").glob("*/*/")):
            organisation = Organisation.objects.get(slug=policy_dir.parent.name)
            meta = read_toml(policy_dir / "policy.toml")
            policy, created = Policy.objects.get_or_create(
                organisation=organisation,
                slug=policy_dir.name,
                defaults={
                    "title": meta["title"],
                    "summary": meta.get("summary", ""),
                    "visibility": Visibility(meta.get("visibility", "internal")),
                    "audience_all": meta.get("audience_all", True),
                    "audience_elected": meta.get("audience_elected", False),
                    "review_interval_months": meta.get("review_interval_months", 24),
                },
            )
            if created:
                self.created.append(f"retningslinje {organisation.slug}/{policy.slug}")
            for number, path in version_files(policy_dir):
                if policy.versions.filter(number__gte=number).exists():
                    continue  # Loaded before, or an editor has published since: leave it.
                if policy.versions.drafts().exists():
                    self.stderr.write(
                        f"{organisation.slug}/{policy.slug}: et åpent utkast finnes; "
                        f"versjon {number} fra fixtures lastes ikke."
                    )
                    break
                doc = read_document(path)
                draft = create_draft(policy, by=None, body=doc.body)
                draft.title = doc.meta["title"]
                draft.save(update_fields=["title"])
                publish(
                    draft,
                    by=None,
                    change_kind=doc.meta["change_kind"],
                    change_note=doc.meta["change_note"],
                    adopted_by=doc.meta.get("adopted_by", ""),
                    adopted_on=doc.meta.get("adopted_on"),
                    effective_from=doc.meta["effective_from"],
                )
                self.created.append(f"versjon {number} av {organisation.slug}/{policy.slug}")

    def load_resources(self) -> None:
        for path in sorted((self.root / "resources").glob("*.md")):
            resource = Resource.objects.filter(slug=path.stem).first()
            if resource is None:
                doc = read_document(path)
                save_resource(
                    Resource(
                        slug=path.stem,
                        title=doc.meta["title"],
                        publisher=doc.meta.get("publisher", ""),
                        published=doc.meta.get("published", ""),
                        summary=doc.meta.get("summary", ""),
                        source_note=doc.meta.get("source_note", ""),
                        body=doc.body,
                    )
                )
                self.created.append(f"ressurs {path.stem}")
            elif not resource.sections.exists():
                # Resources loaded before they were searched get their sections now.
                save_resource(resource)

    def load_synonyms(self) -> None:
        """The national synonyms (rows without an organisation); editors' own are left alone."""
        path = self.root / "synonyms.toml"
        if not path.exists():
            return
        for word, words in read_toml(path)["synonyms"].items():
            _, created = Synonym.objects.get_or_create(
                organisation=None, word=word.lower(), defaults={"words": ", ".join(words)}
            )
            if created:
                self.created.append(f"synonym {word}")
                forget_plans()

    def load_demo_people(self) -> None:
        for entry in read_toml(self.root / "demo_people.toml")["person"]:
            if Person.objects.filter(username=entry["username"]).exists():
                continue
            organisation = (
                Organisation.objects.get(slug=entry["organisation"])
                if entry.get("organisation")
                else None
            )
            unit = (
                self.unit_at(organisation, entry["unit"], create=False) if "unit" in entry else None
            )
            person = Person(
                username=entry["username"],
                first_name=entry.get("first_name", ""),
                last_name=entry.get("last_name", ""),
                email=f"{entry['username']}@example.invalid",
                organisation=organisation,
                unit=unit,
                employee_number=entry.get("employee_number", ""),
                is_editor=entry.get("is_editor", False),
                is_elected_official=entry.get("is_elected_official", False),
                is_superuser=entry.get("is_superuser", False),
                is_staff=entry.get("is_superuser", False),
            )
            person.set_password("demo")
            person.save()
            for path in entry.get("manages", []):
                person.managed_units.add(self.unit_at(organisation, path, create=False))
            self.created.append(f"demobruker {person.username}")
