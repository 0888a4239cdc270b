"""The national-scale corpus: ≈ 360 organisations × 30 policies × 15 sections of Norwegian text.

The text is recombined from the real documents in fixtures/ (the three municipalities' guidelines,
the background resources and the source texts), sentence by sentence, so word frequencies, word
lengths and compounds are those of real municipal guidelines. Deterministic (fixed seed).

Rows go in with bulk_create in batches, through the same rendering function the product uses, so
`body_html`, sections, anchors and the stored search vector are exactly what publishing produces.
"""

from __future__ import annotations

import datetime
import io
import random
import re
import time

from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from people.models import Organisation, Person, Unit
from policies.fixtures import FIXTURES_DIR
from policies.models import ChangeKind, Policy, PolicyVersion, Section, Status, Visibility
from policies.rendering import render

POLICIES_PER_ORG = 30
SECTIONS_PER_POLICY = 15
SEED = 2026
BENCH_PEOPLE = 64  # people of the first organisation, for the acknowledgement burst

POLICY_TOPICS = [
    "Retningslinjer for bruk av sosiale medier", "Etiske retningslinjer", "Varsling av kritikkverdige forhold",
    "Informasjonssikkerhet", "Taushetsplikt og personvern", "Krisekommunikasjon", "Bruk av e-post og Teams",
    "Mediehåndtering og pressekontakt", "Gaver og bindinger", "Bierverv og sidegjøremål",
    "Arbeid hjemmefra", "Rusmiddelpolitikk", "Klarspråk i kommunen", "Universell utforming av nettsider",
    "Bruk av kunstig intelligens", "Arkivering og journalføring", "Innkjøp og anskaffelser",
    "Reiser og representasjon", "Bruk av mobiltelefon", "Forebygging av trakassering",
    "Kommunikasjonsstrategi", "Beredskap og krisehåndtering", "Ytringsfrihet for ansatte",
    "Folkevalgtes bruk av sosiale medier", "Bilder og video i kommunens kanaler", "Innbyggerdialog",
    "Lojalitet og ytringer", "Profilhåndbok", "Digital kompetanse", "Personvern i skolen",
]  # fmt: skip

EXTRA_HEADINGS = [
    "Formål", "Hvem gjelder retningslinjene for", "Ansvar og roller", "Taushetsplikt", "Personvern",
    "Ytringsfrihet og lojalitet", "Krisekommunikasjon", "Når noe går galt", "Slik svarer du innbyggere",
    "Bruk av bilder", "Kildekritikk", "Kommentarer og moderering", "Oppfølging og brudd",
    "Opplæring", "Revisjon av retningslinjene", "Definisjoner", "Lover og forskrifter",
    "Folkevalgte", "Privat bruk", "Kontakt",
]  # fmt: skip

_NAME_START = [
    "Nord", "Sør", "Øst", "Vest", "Øvre", "Nedre", "Lille", "Store", "Ny", "Gamle", "Indre", "Ytre",
    "Lang", "Bred", "Rød", "Grøn", "Kvit", "Sand", "Stein", "Fjell",
]  # fmt: skip
_NAME_END = [
    "fjord", "dal", "vik", "nes", "øy", "berg", "land", "sund", "strand", "haug", "vang", "mo",
    "å", "by", "heim", "stad", "set", "rud", "voll", "bø",
]  # fmt: skip

_TRANSLIT = str.maketrans({"æ": "ae", "ø": "o", "å": "a"})


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower().translate(_TRANSLIT)).strip("-")


def _source_texts() -> list[str]:
    paths = sorted((FIXTURES_DIR / "handbook").glob("*/*/*.md"))
    paths += sorted((FIXTURES_DIR / "resources").glob("*.md"))
    paths += sorted((FIXTURES_DIR / "sources").glob("*.txt"))
    texts = []
    for path in paths:
        text = path.read_text(encoding="utf-8")
        if text.startswith("+++"):
            text = text.split("+++", 2)[2]
        texts.append(text)
    return texts


def sentence_pool() -> tuple[list[str], list[str]]:
    """Sentences and headings of the real documents, Markdown markup removed."""
    sentences: list[str] = []
    headings: list[str] = []
    for text in _source_texts():
        for line in text.splitlines():
            line = line.strip()
            if not line:
                continue
            if line.startswith("#"):
                heading = re.sub(r"[#*•_]", "", line).strip(" .:")
                if 3 <= len(heading) <= 80:
                    headings.append(heading)
                continue
            line = re.sub(r"^[-*>]\s*|[*_]{1,2}|\[|\]\([^)]*\)", "", line)
            for sentence in re.split(r"(?<=[.!?])\s+", line):
                if len(sentence) >= 25 and re.search(r"[a-zæøå]", sentence):
                    sentences.append(sentence.strip())
    return sentences, sorted(set(headings)) + EXTRA_HEADINGS


def organisation_names(count: int) -> list[str]:
    names = [f"{a}{b}".capitalize() for a in _NAME_START for b in _NAME_END]
    rng = random.Random(SEED)
    rng.shuffle(names)
    while len(names) < count:
        names += [f"{n} {len(names) // 400 + 2}" for n in names[:400]]
    return [f"{n} kommune" for n in names[:count]]


def policy_body(rng: random.Random, sentences: list[str], headings: list[str]) -> str:
    parts = []
    for _ in range(SECTIONS_PER_POLICY):
        parts.append(f"## {rng.choice(headings)}\n")
        for _ in range(rng.randint(1, 3)):
            parts.append(" ".join(rng.sample(sentences, rng.randint(2, 4))) + "\n")
        if rng.random() < 0.3:
            parts.append("\n".join(f"- {s}" for s in rng.sample(sentences, 3)) + "\n")
    return "\n".join(parts)


def is_built(organisations: int) -> bool:
    """All organisations and all their sections are there (a build stopped halfway is not)."""
    return (
        Organisation.objects.filter(slug__startswith="bench-").count() == organisations
        and Section.objects.filter(version__policy__organisation__slug__startswith="bench-").count()
        >= organisations * POLICIES_PER_ORG * SECTIONS_PER_POLICY
    )


def ensure(*, organisations: int = 360, rebuild: bool = False) -> None:
    """Migrate handbook_bench and build the corpus unless it is already there at this size."""
    call_command("migrate", verbosity=0, interactive=False)
    if not rebuild and is_built(organisations):
        print(f"corpus: present ({Section.objects.count()} sections)", flush=True)
    else:
        build(organisations)
    # The real documents among the generated ones, for the relevance set (bench/relevance.py).
    # Idempotent: a second run adds nothing.
    call_command("load_handbook", stdout=io.StringIO())


def _wipe() -> None:
    # The bench database is ours alone: append-only triggers are bypassed by TRUNCATE, which is
    # exactly what rebuilding it needs.
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE policies_acknowledgement, policies_event, policies_reminder, "
            "policies_section, policies_searchterm, policies_policy_audience_units, "
            "policies_resourcesection, policies_resource, policies_synonym, "
            "policies_policyversion, policies_policy, people_person_managed_units, "
            "people_person_groups, people_person_user_permissions, django_admin_log, "
            "django_session, policies_digestdelivery, people_person, people_unit, "
            "people_organisation RESTART IDENTITY CASCADE"
        )


def build(organisations: int) -> None:
    started = time.perf_counter()
    rng = random.Random(SEED)
    sentences, headings = sentence_pool()
    _wipe()
    names = organisation_names(organisations)
    orgs = Organisation.objects.bulk_create(
        Organisation(name=name, slug=f"bench-{_slug(name)}") for name in names
    )
    now = timezone.now()
    effective = timezone.localdate() - datetime.timedelta(days=400)
    for done, org in enumerate(orgs, start=1):
        with transaction.atomic():
            policies = Policy.objects.bulk_create(
                Policy(
                    organisation=org,
                    slug=_slug(topic),
                    title=topic,
                    visibility=Visibility.PUBLIC if rng.random() < 0.8 else Visibility.INTERNAL,
                    audience_all=True,
                    audience_elected=topic.startswith("Folkevalgtes"),
                )
                for topic in POLICY_TOPICS[:POLICIES_PER_ORG]
            )
            versions, rendered_by_version = [], []
            for policy in policies:
                # One policy in ten has an earlier (superseded) version as well.
                numbers = [1, 2] if rng.random() < 0.1 else [1]
                for number in numbers:
                    rendered = render(policy_body(rng, sentences, headings), title=policy.title)
                    latest = number == numbers[-1]
                    versions.append(
                        PolicyVersion(
                            policy=policy,
                            number=number,
                            status=Status.PUBLISHED if latest else Status.SUPERSEDED,
                            title=policy.title,
                            body="(generert)",
                            body_html=rendered.html,
                            text_hash=rendered.text_hash,
                            change_kind=ChangeKind.MATERIAL
                            if number == 1
                            else ChangeKind.EDITORIAL,
                            change_note="Generert for ytelsesmåling.",
                            effective_from=effective + datetime.timedelta(days=30 * (number - 1)),
                            published_at=now,
                        )
                    )
                    rendered_by_version.append(rendered)
            versions = PolicyVersion.objects.bulk_create(versions)
            Section.objects.bulk_create(
                (
                    section
                    for version, rendered in zip(versions, rendered_by_version, strict=True)
                    for section in Section.build(version, rendered.sections)
                ),
                batch_size=2000,
            )
        if done % 40 == 0:
            print(f"corpus: {done}/{len(orgs)} organisations", flush=True)
    _make_people(orgs[0])
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(
        f"corpus: built {Section.objects.count()} sections in "
        f"{time.perf_counter() - started:.0f} s",
        flush=True,
    )


def _make_people(org: Organisation) -> None:
    unit = Unit.objects.create(organisation=org, name="Rådmannen")
    unit.path = f"/{unit.pk}/"
    unit.save(update_fields=["path"])
    people = [
        Person(
            username=f"bench{i}",
            first_name="Ytelse",
            last_name=f"Test {i}",
            organisation=org,
            unit=unit,
            password="!",  # no login by password: the burst uses sessions made directly
        )
        for i in range(BENCH_PEOPLE)
    ]
    Person.objects.bulk_create(people)
