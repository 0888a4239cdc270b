"""`manage.py seed_demo [--dry-run]`: make the demo municipalities look used.

`load_handbook` gives each municipality a handful of demo logins and no activity, so a newcomer
logging in as leder.bergen sees two people and no confirmations. This command adds, per
municipality, a few dozen employees (and in Bodø some elected officials) spread over the units of
fixtures/organisations.toml, and confirmations of the policies at past dates: most have confirmed,
some never did, some are overdue, new joiners still have time, and in Moskenes some confirmed
version 1 before the editorial version 2, which still counts.

Development only: it refuses unless settings.DEMO_DATA is on (never in production). Everything is
deterministic (fixed name lists and a seeded random generator) and idempotent: a generated person
whose username or employee number already exists is skipped, and confirmations are only written
for the people this run creates, so running it again adds nothing and never touches what editors,
the HR import or real people have created.
"""

from __future__ import annotations

import datetime
import random
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from people.models import Organisation, Person, Unit
from policies.dashboards import Scope, overview
from policies.fixtures import FIXTURES_DIR, read_document, read_toml
from policies.models import Acknowledgement, ChangeKind, Policy, PolicyVersion, Status
from policies.workflow import publish_translation, save_translation

SEED = "håndboka-demo-1"
# The nynorsk demo: a translation made for the demo (see nynorsk_demo).
NYNORSK_DEMO = FIXTURES_DIR / "demo" / "bergen-sosiale-medier.nn.md"

FIRST_NAMES = [
    "Anne", "Inger", "Kari", "Marit", "Ingrid", "Liv", "Eva", "Berit", "Astrid", "Bjørg",
    "Hilde", "Anna", "Solveig", "Marianne", "Randi", "Ida", "Nina", "Maria", "Elisabeth", "Kristin",
    "Silje", "Tone", "Hanne", "Camilla", "Ragnhild", "Nora", "Emma", "Sofie", "Thea", "Åse",
    "Jan", "Per", "Bjørn", "Ole", "Lars", "Kjell", "Knut", "Arne", "Svein", "Hans",
    "Geir", "Thomas", "Tor", "Morten", "Terje", "Odd", "Martin", "Erik", "Anders", "Andreas",
    "Jonas", "Magnus", "Sindre", "Øyvind", "Håkon", "Espen", "Trond", "Eirik", "Mohammed", "Agnieszka",
]  # fmt: skip

LAST_NAMES = [
    "Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen", "Kristiansen",
    "Jensen", "Karlsen", "Johnsen", "Pettersen", "Eriksen", "Berg", "Haugen", "Hagen",
    "Johannessen", "Andreassen", "Jacobsen", "Dahl", "Jørgensen", "Halvorsen", "Henriksen", "Lund",
    "Sørensen", "Jakobsen", "Moen", "Gundersen", "Iversen", "Strand", "Solberg", "Svendsen",
    "Eide", "Knutsen", "Martinsen", "Paulsen", "Bakken", "Kristoffersen", "Mathisen", "Lie",
    "Amundsen", "Rasmussen", "Lunde", "Solheim", "Nygård", "Bakke", "Sæther", "Myhre",
    "Haugland", "Sivertsen", "Ødegård", "Brekke", "Aune", "Tveit", "Nguyen", "Ali",
    "Nowak", "Eliassen", "Strøm", "Bøe",
]  # fmt: skip


@dataclass(frozen=True)
class Town:
    """How many people a municipality gets, and the letter of its employee numbers."""

    letter: str
    employees: int
    elected: int = 0
    leavers: int = 1


# Employee numbers from 5001 up: the demo logins use 1001-1003 and the HR example file 2001-3001.
TOWNS = {
    "bergen": Town(letter="B", employees=36, leavers=2),
    "moskenes": Town(letter="M", employees=26),
    # Bodø's policy names elected officials (folkevalgte) in its audience.
    "bodo": Town(letter="D", employees=30, elected=5),
}
FIRST_NUMBER = 5001
NEW_JOINERS = 4  # in their unit for less than two weeks: their deadline is still ahead
RECENT_JOINERS = 3  # in their unit for 2-4 weeks: their deadline is close
CONFIRMED_SHARE = 0.8  # of those who have been there a while
NEW_JOINER_CONFIRMED_SHARE = 0.4
# Recent confirmations fall in the last six weeks; confirmations of an earlier version that still
# counts (an editorial change came after) fall in the three months before that.
RECENT_WINDOW = 42
EARLIER_WINDOW = 90
# The municipal council terms began in October 2023 after the local elections.
COUNCIL_TERM_START = datetime.date(2023, 10, 16)


@dataclass(frozen=True)
class PlannedPerson:
    """One generated person and what they did, decided before anything is read from the database."""

    username: str
    employee_number: str
    first_name: str
    last_name: str
    email: str
    unit_path: str | None
    elected: bool
    joined: datetime.date
    unit_since: datetime.date | None
    leaver: bool
    confirms: bool
    confirmed_earlier: bool  # confirmed an earlier version that still counts
    also_current: bool  # ... and the current one later
    ack_position: float  # where in the window they confirmed, 0 = earliest
    ack_minute: int  # minutes after 07:30 on that day


class DryRun(Exception):
    pass


def _ascii(text: str) -> str:
    text = text.lower().replace("æ", "ae").replace("ø", "o").replace("å", "a")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _days_ago(today: datetime.date, days: int) -> datetime.date:
    return today - datetime.timedelta(days=days)


def plan_people(
    slug: str, town: Town, units: list[tuple[str, int]], *, today: datetime.date
) -> list[PlannedPerson]:
    """The people of one municipality: deterministic for a given day, whatever the database holds.

    `units` are (path, weight) pairs; a heavier unit gets proportionally more people.
    """
    rng = random.Random(f"{SEED}:{slug}")
    total = town.employees + town.elected
    # No first name twice in one municipality, so every full name is unique and lists read well.
    names = list(zip(rng.sample(FIRST_NAMES, total), rng.choices(LAST_NAMES, k=total), strict=True))

    employees = list(range(town.employees))
    rng.shuffle(employees)
    new = set(employees[:NEW_JOINERS])
    recent = set(employees[NEW_JOINERS : NEW_JOINERS + RECENT_JOINERS])
    leavers = set(employees[NEW_JOINERS + RECENT_JOINERS :][: town.leavers])
    settled = [i for i in employees if i not in new and i not in recent]
    confirmers = set(rng.sample(settled, round(CONFIRMED_SHARE * len(settled)))) | leavers
    newcomers = sorted(new | recent)
    confirmers |= set(rng.sample(newcomers, round(NEW_JOINER_CONFIRMED_SHARE * len(newcomers))))

    paths = [path for path, _ in units]
    weights = [weight for _, weight in units]
    people = []
    for i, (first, last) in enumerate(names):
        elected = i >= town.employees
        if elected:
            unit_path, unit_since = None, None
            joined = COUNCIL_TERM_START
            confirms = rng.random() < CONFIRMED_SHARE
        else:
            unit_path = rng.choices(paths, weights)[0]
            if i in new:
                unit_since = _days_ago(today, rng.randint(1, 13))
            elif i in recent:
                unit_since = _days_ago(today, rng.randint(15, 28))
            else:
                unit_since = _days_ago(today, rng.randint(60, 12 * 365))
            joined = unit_since - datetime.timedelta(days=rng.choice([0, 0, rng.randint(1, 2000)]))
            confirms = i in confirmers
        number = f"{town.letter}{FIRST_NUMBER + i}"
        people.append(
            PlannedPerson(
                # The same form the HR import gives people (<ansattnummer>@<kommune>).
                username=f"{number.lower()}@{slug}",
                employee_number=number,
                first_name=first,
                last_name=last,
                email=f"{_ascii(first)}.{_ascii(last)}.{number.lower()}@example.invalid",
                unit_path=unit_path,
                elected=elected,
                joined=joined,
                unit_since=unit_since,
                leaver=i in leavers,
                confirms=confirms,
                confirmed_earlier=rng.random() < 0.6,
                also_current=rng.random() < 0.3,
                ack_position=rng.random(),
                ack_minute=rng.randint(0, 8 * 60),
            )
        )
    return people


@dataclass
class Created:
    """What one municipality got, for the summary."""

    organisation: Organisation
    people: int = 0
    elected: int = 0
    leavers: int = 0
    acknowledgements: int = 0
    earlier_only: int = 0


class Command(BaseCommand):
    help = (
        "Legger inn demodata (utvikling): flere ansatte i de tre demokommunene og bekreftelser "
        "med datoer bakover i tid. Gjør ingenting i produksjon, og ingenting andre gang."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Vis hva som ville blitt lagt inn; lagre ingenting.",
        )
        # `make run` passes this, so that DEMO_DATA=false make run still serves a clean portal;
        # called by hand without it, a disabled DEMO_DATA is an error.
        parser.add_argument(
            "--if-enabled",
            action="store_true",
            help="Når DEMO_DATA er av: si fra og avslutt uten feil i stedet for å feile.",
        )

    def handle(self, *args, dry_run: bool = False, if_enabled: bool = False, **options):
        if not settings.DEMO_DATA:
            message = (
                "Demodata er slått av (DEMO_DATA er av, eller ENVIRONMENT=production). "
                "seed_demo legger aldri inn eksempeldata i produksjon. Ingenting er endret."
            )
            if if_enabled:
                self.stdout.write(message)
                return
            raise CommandError(message)
        self.today = timezone.localdate()
        self.now = timezone.now()
        results: list[Created] = []
        summaries: list[str] = []
        nynorsk = ""
        try:
            with transaction.atomic():
                for slug, town in TOWNS.items():
                    results.append(self.seed(slug, town))
                nynorsk = self.nynorsk_demo()
                # Read back through the manager dashboards, inside the transaction so that a dry
                # run reports the figures it would have produced.
                summaries = [self.summary(r) for r in results]
                if dry_run:
                    raise DryRun
        except DryRun:
            pass
        prefix = "[tørrkjøring, ingenting lagret] " if dry_run else ""
        if nynorsk:
            self.stdout.write(f"{prefix}{nynorsk}")
        if not any(r.people for r in results):
            self.stdout.write(f"{prefix}Demodataene finnes allerede; ingenting å gjøre.")
            return
        for line in summaries:
            self.stdout.write(f"{prefix}{line}")
        people = sum(r.people for r in results)
        acks = sum(r.acknowledgements for r in results)
        self.stdout.write(
            self.style.SUCCESS(
                f"{prefix}Demodata lagt inn: {people} personer og {acks} bekreftelser. "
                "De genererte personene kan ikke logge inn."
            )
        )

    # --- Writing ---------------------------------------------------------------------------------

    def nynorsk_demo(self) -> str:
        """Bergen speaks nynorsk in the demo: its målform is set to nynorsk, and its guideline gets
        the nynorsk version in fixtures/demo/ (made for the demo, not an official text), so a
        newcomer sees the interface and a policy in nynorsk. In reality Bergen is
        language-neutral. Only the first run does this: once the translation exists, nothing."""
        document = read_document(NYNORSK_DEMO)
        meta = document.meta
        version = (
            PolicyVersion.objects.filter(
                policy__organisation__slug=meta["organisation"],
                policy__slug=meta["policy"],
                number=meta["version"],
            )
            .select_related("policy__organisation")
            .first()
        )
        if version is None or version.translations.filter(language=meta["language"]).exists():
            return ""
        organisation = version.policy.organisation
        organisation.language = meta["language"]
        organisation.save(update_fields=["language"])
        translation = save_translation(
            version,
            language=meta["language"],
            by=None,
            title=meta["title"],
            body=document.body,
            note=meta["note"],
            revision=None,
        )
        publish_translation(translation, by=None)
        return (
            f"{organisation.name} har nynorsk som målform i demoen, og «{version.title}» "
            "har fått en nynorsk versjon laget for demoen."
        )

    def seed(self, slug: str, town: Town) -> Created:
        organisation = Organisation.objects.filter(slug=slug).first()
        if organisation is None:
            raise CommandError(
                f"Fant ingen kommune med adressen «{slug}». Kjør «manage.py load_handbook» først."
            )
        created = Created(organisation=organisation)
        units = self.units(organisation)
        planned = plan_people(
            slug, town, [(path, weight) for path, (_, weight) in units.items()], today=self.today
        )
        # The marker of an earlier run: a generated person's username or employee number exists.
        # Such people are left alone, and so are their confirmations.
        taken_usernames = set(
            Person.objects.filter(username__in=[p.username for p in planned]).values_list(
                "username", flat=True
            )
        )
        taken_numbers = set(
            Person.objects.filter(
                organisation=organisation, employee_number__in=[p.employee_number for p in planned]
            ).values_list("employee_number", flat=True)
        )
        planned = [
            p
            for p in planned
            if p.username not in taken_usernames and p.employee_number not in taken_numbers
        ]
        if not planned:
            return created

        tz = timezone.get_current_timezone()
        people = []
        for plan in planned:
            person = Person(
                username=plan.username,
                first_name=plan.first_name,
                last_name=plan.last_name,
                email=plan.email,
                organisation=organisation,
                unit=units[plan.unit_path][0] if plan.unit_path else None,
                unit_since=plan.unit_since,
                employee_number=plan.employee_number,
                is_elected_official=plan.elected,
                date_joined=datetime.datetime.combine(plan.joined, datetime.time(8), tzinfo=tz),
            )
            # They are rows for the dashboards, not logins.
            person.set_unusable_password()
            people.append(person)
        # Everyone starts active; leavers are deactivated after their confirmations are written,
        # as in real life, so the confirmations remain as evidence.
        Person.objects.bulk_create(people)
        created.people = len(people)
        created.elected = sum(p.elected for p in planned)
        created.leavers = sum(p.leaver for p in planned)

        acks: list[Acknowledgement] = []
        for policy in Policy.objects.filter(organisation=organisation).active():
            acks += self.acknowledgements(policy, people, planned, created)
        # Written directly rather than through policies.acknowledgements.acknowledge(), which only
        # accepts the current version and the present moment: demo data needs confirmations at
        # past dates and of an earlier version. Each row carries the exact text hash of its
        # version, as a real confirmation does.
        Acknowledgement.objects.bulk_create(acks)
        created.acknowledgements = len(acks)

        leaver_ids = [
            person.pk for person, plan in zip(people, planned, strict=True) if plan.leaver
        ]
        # The first leaver of each municipality left six years ago (past the default retention of
        # five years, so `apply_retention` pseudonymises them), any others four months ago.
        today = timezone.localdate()
        for index, person_id in enumerate(leaver_ids):
            left_on = today - datetime.timedelta(days=6 * 365 if index == 0 else 120)
            Person.objects.filter(pk=person_id).update(is_active=False, left_on=left_on)
        return created

    def units(self, organisation: Organisation) -> dict[str, tuple[Unit, int]]:
        """The units of fixtures/organisations.toml by path, weighted: demo managers' units x2."""
        root = FIXTURES_DIR
        entry = next(
            e for e in read_toml(root / "organisations.toml")["organisation"]
            if e["slug"] == organisation.slug
        )  # fmt: skip
        managed = [
            path
            for person in read_toml(root / "demo_people.toml")["person"]
            if person.get("organisation") == organisation.slug
            for path in person.get("manages", [])
        ]
        result = {}
        for path in entry["units"]:
            unit = None
            for name in (part.strip() for part in path.split("/")):
                unit = Unit.objects.filter(
                    organisation=organisation, parent=unit, name=name
                ).first()
                if unit is None:
                    raise CommandError(
                        f"{organisation.name} mangler enheten «{path}». "
                        "Kjør «manage.py load_handbook» først."
                    )
            under_manager = any(path == m or path.startswith(f"{m} / ") for m in managed)
            result[path] = (unit, 2 if under_manager else 1)
        return result

    def acknowledgements(
        self,
        policy: Policy,
        people: list[Person],
        planned: list[PlannedPerson],
        created: Created,
    ) -> list[Acknowledgement]:
        """Confirmations of `policy` by those of the new people who must confirm it and did."""
        in_force = list(policy.versions.published().order_by("number"))
        current = next((v for v in in_force if v.status == Status.PUBLISHED), None)
        if current is None:
            return []
        # Confirming any version from the latest material one onwards makes a person compliant.
        required = max(
            (v.number for v in in_force if v.change_kind == ChangeKind.MATERIAL), default=1
        )
        earlier = [v for v in in_force if required <= v.number < current.number]
        audience = set(
            Person.objects.in_audience_of(policy)
            .filter(pk__in=[p.pk for p in people])
            .values_list("pk", flat=True)
        )
        acks = []
        for person, plan in zip(people, planned, strict=True):
            if person.pk not in audience or not plan.confirms:
                continue
            start = plan.unit_since or plan.joined
            earlier_ack = None
            if earlier and plan.confirmed_earlier:
                earlier_ack = self.earlier_acknowledgement(person, plan, earlier, current, start)
            if earlier_ack is not None:
                acks.append(earlier_ack)
                if not plan.also_current:
                    created.earlier_only += 1
                    continue
            # load_handbook publishes the versions "now", so these dates may precede the version's
            # published_at; they stay after its effective date, which is what the pages show.
            day = self.day_in(
                plan.ack_position,
                max(start, current.effective_from, _days_ago(self.today, RECENT_WINDOW)),
                _days_ago(self.today, 1),
            )
            if day is not None:
                acks.append(self.ack(person, current, day, plan.ack_minute))
            elif earlier_ack is not None:
                created.earlier_only += 1
        return acks

    def earlier_acknowledgement(
        self,
        person: Person,
        plan: PlannedPerson,
        earlier: list[PolicyVersion],
        current: PolicyVersion,
        start: datetime.date,
    ) -> Acknowledgement | None:
        """A confirmation of the version before an editorial change, dated before it was published."""
        version = earlier[-1]
        last = min(
            timezone.localdate(current.published_at) - datetime.timedelta(days=1),
            _days_ago(self.today, RECENT_WINDOW + 1),
        )
        first = max(start, version.effective_from, last - datetime.timedelta(days=EARLIER_WINDOW))
        day = self.day_in(plan.ack_position, first, last)
        return None if day is None else self.ack(person, version, day, plan.ack_minute)

    @staticmethod
    def day_in(position: float, first: datetime.date, last: datetime.date) -> datetime.date | None:
        if first > last:
            return None
        return first + datetime.timedelta(days=int(position * ((last - first).days + 1)))

    def ack(
        self, person: Person, version: PolicyVersion, day: datetime.date, minute: int
    ) -> Acknowledgement:
        moment = datetime.datetime.combine(
            day, datetime.time(7, 30), tzinfo=timezone.get_current_timezone()
        ) + datetime.timedelta(minutes=minute)
        return Acknowledgement(
            person=person,
            version=version,
            text_hash=version.text_hash,
            acknowledged_at=min(moment, self.now - datetime.timedelta(minutes=1)),
        )

    # --- Reporting -------------------------------------------------------------------------------

    def summary(self, created: Created) -> str:
        organisation = created.organisation
        if not created.people:
            return f"{organisation.name}: finnes allerede; ingenting lagt til."
        people = f"{created.people} nye personer"
        extras = []
        if created.elected:
            extras.append(f"{created.elected} folkevalgte")
        if created.leavers:
            extras.append(f"{created.leavers} har sluttet")
        if extras:
            people += f" ({', '.join(extras)})"
        acks = f"{created.acknowledgements} bekreftelser"
        if created.earlier_only:
            acks += (
                f" ({created.earlier_only} personer har bare bekreftet en eldre versjon, som "
                "fortsatt gjelder fordi endringen etter den var redaksjonell)"
            )
        total = overview(Scope(organisation_id=organisation.pk), []).total
        return (
            f"{organisation.name}: {people}, {acks}. Nå har {total.compliant} av {total.must} "
            f"bekreftet ({total.percent} %), {total.overdue} har passert fristen."
        )
