"""Relevance: do the questions employees type find the sections that answer them?

Each question below is written the way a nurse, a teacher or a caseworker would type it, many of
them with words that are not in the guidelines ("kritisere", "venn", "sinte", "SoMe"). The
sections that answer each one were judged by reading the real documents in fixtures/ (the three
kommuner's guidelines and the two background resources); a question may have several.

Measured as an anonymous reader over all kommuner (every real document is public):

- Success@3: the share of questions with an answering section among the first three hits;
- MRR@10: the mean of 1 / (rank of the first answering section), 0 when none is in the first ten.

`run()` prints both over the real documents alone (a database with only fixtures/) and over the
national corpus (the same documents among ≈ 160 000 generated sections whose sentences are taken
from them, so many generated sections say the same thing in other words).
"""

from __future__ import annotations

from dataclasses import dataclass

B = "/bergen/sosiale-medier/#"
M = "/moskenes/sosiale-medier/#"
BO = "/bodo/sosiale-medier/#"
DIFI = "/ressurser/difi-veiledning/#"
PORS = "/ressurser/porsgrunn-tankerekke/#"

# Anchors, as the renderer makes them from the headings.
B_WHY = B + "hvorfor-bruke-sosiale-medier"
B_CHANNEL = B + "er-sosiale-medier-riktig-kanal"
B_HOW = B + "slik-bruker-du-sosiale-medier"
B_PRIVATE = B + "din-rolle-som-privatperson"
BO_ABOUT = BO + "om-retningslinjene"
BO_SAYS = BO + "hva-retningslinjene-sier"
BO_QUOTES = BO + "sitater-fra-artikkelen"
M_INTRO = M + "innledning"
M_COMMON = M + "avsnitt-1-felles-grunnlag-for-bruk-av-sosiale-medier"
M_SUITED = M + "hva-egner-sosiale-medier-seg-til-og-hva-skal-de-ikke-brukes-til"
M_AWARE = M + "vaer-bevisst-formal-ansvar-og-funksjon"
M_LOYALTY = M + "lojalitet-informasjons-og-taushetsplikt-lovverk-og-retningslinjer"
M_ONBEHALF = M + "avsnitt-2-bruk-av-sosiale-medier-pa-vegne-av-kommunen"
M_CHIEF = M + "radmannen-er-formelt-ansvarlig-for-alt-innhold-pa-nettet-som-representerer-kommu"
M_PURPOSE = M + "formal"
M_WEBSITE = M + "oppdater-nettsider"
M_PREPARED = M + "vaer-forberedt"
M_CONDUCT = M + "holdninger-og-adferd"
M_ANSWER = M + "slik-bor-du-svare"
M_NOCOMMENT = M + "temaer-du-ikke-kommenterer"
M_PRIVATE = M + "avsnitt-3-privat-bruk-av-sosiale-medier"
DIFI_INTRO = DIFI + "innledning"
DIFI_GUIDE = DIFI + "viktige-retningslinjer"
P_INTRO = PORS + "innledning"
P_OPEN = PORS + "apen-og-opplyst-samtale"
P_EMPLOYEE = PORS + "som-ansatt"
P_PRIVATE = PORS + "som-privatperson"
P_RESPECT = PORS + "omtanke-og-respekt"
P_TRAPS = PORS + "fellene-det-ofte-gas-i"

# (question, the sections that answer it)
QUESTIONS: list[tuple[str, set[str]]] = [
    ("kan jeg kritisere kommunen på facebook",
     {M_PRIVATE, B_PRIVATE, DIFI_INTRO, P_PRIVATE, BO_SAYS, P_TRAPS}),
    ("må jeg si at jeg skriver som privatperson", {B_PRIVATE, M_PRIVATE}),
    ("kan jeg være venn med elevene mine på facebook", {B_PRIVATE, M_PRIVATE, M_COMMON}),
    ("elevkontakt", {B_PRIVATE, M_PRIVATE, M_COMMON}),
    ("hvem svarer på kommentarer på kommunens facebookside", {M_CHIEF, M_ANSWER, M_ONBEHALF}),
    ("hvordan svarer jeg sinte innbyggere", {M_ANSWER}),
    ("misfornøyd innbygger klager i kommentarfeltet", {M_ANSWER}),
    ("hva skal vi ikke kommentere", {M_NOCOMMENT, M_SUITED}),
    ("rykter og spekulasjoner", {M_NOCOMMENT}),
    ("kan vi svare på spørsmål om budsjett og omorganisering", {M_NOCOMMENT}),
    ("saksbehandling på facebook", {M_SUITED, B_HOW, M_COMMON, M_PRIVATE}),
    ("kan jeg svare på en enkeltsak i messenger", {M_SUITED}),
    ("hvem må godkjenne en ny facebookside for enheten", {M_CHIEF, B_HOW, M_AWARE}),
    ("opprette profil for enheten", {B_CHANNEL, M_CHIEF, M_AWARE, B_PRIVATE}),
    ("taushetsplikt på sosiale medier", {M_PRIVATE, M_LOYALTY, B_HOW, M_COMMON}),
    ("kan jeg legge ut bilder fra jobben", {B_HOW}),
    ("opphavsrett til bilder", {B_HOW, B_PRIVATE}),
    ("må jeg kreditere fotografen", {B_HOW}),
    ("hvem informerer når det er krise", {M_CHIEF, B_CHANNEL}),
    ("beredskapsleder", {M_CHIEF}),
    ("lojalitetsplikt og ytringsfrihet", {DIFI_INTRO, DIFI_GUIDE, P_TRAPS, M_PRIVATE}),
    ("varsle om kritikkverdige forhold", {M_PRIVATE}),
    ("ytringsfrihet for ansatte", {P_OPEN, P_PRIVATE, DIFI_INTRO, M_PRIVATE, DIFI_GUIDE}),
    ("hvilken tone skal vi ha på facebook", {B_HOW, M_ANSWER}),
    ("klarspråk", {B_HOW, B_PRIVATE, BO_QUOTES}),
    ("IT-sikkerhet", {P_EMPLOYEE, B_HOW, B_CHANNEL}),
    ("personvern", {P_EMPLOYEE, B_CHANNEL}),
    ("faktafeil i et innlegg", {M_CONDUCT, M_ANSWER}),
    ("må informasjonen også ligge på nettsidene", {B_HOW, M_WEBSITE, M_SUITED, M_ANSWER}),
    ("hjemmesiden", {M_WEBSITE, M_SUITED, M_CONDUCT}),
    ("universell utforming", {DIFI_GUIDE, B_HOW, P_INTRO}),
    ("folkevalgte på sosiale medier", {BO_ABOUT, M_PRIVATE, P_TRAPS}),
    ("hvem vedtok retningslinjene i bodø", {BO_ABOUT}),
    ("når ble retningslinjene vedtatt av amu", {M_INTRO}),
    ("arbeidsmiljøutvalget", {M_INTRO}),
    ("kan kommunen forby meg å poste på facebook", {BO_SAYS, BO_QUOTES}),
    ("privat twitterkonto", {BO_SAYS, BO_QUOTES}),
    ("intern informasjon fra intranettet", {M_NOCOMMENT}),
    ("kan skolen bruke facebook til å kontakte foreldre", {M_SUITED, M_COMMON}),
    ("it's learning", {M_SUITED}),
    ("hvorfor skal kommunen bruke sosiale medier", {B_WHY, M_PURPOSE, P_OPEN, BO_QUOTES}),
    ("målgruppe", {B_CHANNEL, M_PURPOSE, B_WHY}),
    ("arkivering og journalføring av innlegg", {B_HOW}),
    ("SoMe-strategi", {B_HOW, B_CHANNEL, BO_QUOTES}),
    ("nettvett", {P_RESPECT, M_CONDUCT, M_PRIVATE}),
    ("hvilken e-postadresse bruker jeg privat", {M_PRIVATE}),
    ("snakke nedsettende om andre kommuner", {M_NOCOMMENT}),
    ("taushetsplikk", {M_PRIVATE, M_LOYALTY}),
    ("krisekommunikasjon", {B_CHANNEL, M_CHIEF}),
    ("difi veileder sosiale medier offentlig forvaltning", {DIFI_GUIDE, DIFI_INTRO}),
]  # fmt: skip


@dataclass(frozen=True)
class Score:
    success_at_3: float
    mrr_at_10: float
    misses: list[tuple[str, int]]  # (question, rank of its first answer; 0 = not in the first 10)


def first_relevant_rank(urls: list[str], relevant: set[str]) -> int:
    """1-based rank of the first answering section among `urls`, 0 when there is none."""
    for rank, url in enumerate(urls, start=1):
        if url in relevant:
            return rank
    return 0


def evaluate(search_urls) -> Score:
    """Score `search_urls(question) -> [hit url, ...]` (best first) on every question."""
    ranks = []
    misses = []
    for question, relevant in QUESTIONS:
        rank = first_relevant_rank(search_urls(question)[:10], relevant)
        ranks.append(rank)
        if rank == 0 or rank > 3:
            misses.append((question, rank))
    n = len(QUESTIONS)
    return Score(
        success_at_3=sum(1 for r in ranks if 1 <= r <= 3) / n,
        mrr_at_10=sum(1 / r for r in ranks if r) / n,
        misses=misses,
    )


def anonymous_urls(question: str) -> list[str]:
    from django.contrib.auth.models import AnonymousUser

    from policies.search import search

    return [hit.url for hit in search(question, user=AnonymousUser()).hits]


def asking_kommune(relevant: set[str]) -> str:
    """The kommune of the employee who asks: the one whose own guideline answers (resources-only
    questions are asked in Bergen)."""
    kommuner = sorted(url.split("/")[1] for url in relevant if not url.startswith("/ressurser/"))
    return kommuner[0] if kommuner else "bergen"


def employee_urls(question: str) -> list[str]:
    """The hits a logged-in employee of the answering kommune gets on the search page's default:
    their own kommune and the resources (the other kommuner's hits only when it has none)."""
    from people.models import Organisation, Person
    from policies.search import search

    relevant = dict(QUESTIONS)[question]
    organisation = Organisation.objects.get(slug=asking_kommune(relevant))
    # Unsaved: search() reads only who the reader is, never their rows.
    employee = Person(username="relevans", organisation=organisation)
    result = search(question, user=employee, organisation=organisation)
    if result.policy_count == 0:
        elsewhere = search(question, user=employee, resources=False)
        return [hit.url for hit in result.hits + elsewhere.hits]
    return [hit.url for hit in result.hits]


def run():
    from bench import Result

    real = _on_real_documents()
    # The national corpus (handbook_bench, with the real documents loaded into it by corpus.ensure),
    # as employees search (their own kommune, then resources) and as an anonymous reader over every
    # kommune. The generated kommuner's sections are made of the real documents' sentences, so
    # over every kommune a judged section competes with copies of its own sentences that are not
    # in the judged set: that figure measures how often the original still comes first.
    national_employee = evaluate(employee_urls)
    national_anonymous = evaluate(anonymous_urls)
    results = []
    for label, score in (
        ("ekte dokumenter", real),
        ("nasjonalt korpus, ansatt i egen kommune", national_employee),
        ("nasjonalt korpus, anonym i alle kommuner", national_anonymous),
    ):
        if score is None:
            continue
        print(f"   misses ({label}): " + "; ".join(f"{q!r} → {r or '-'}" for q, r in score.misses))
        target = label != "nasjonalt korpus, anonym i alle kommuner"
        results.append(
            Result(
                f"Relevans, {label}: Success@3 / MRR@10 ({len(QUESTIONS)} spørsmål)",
                f"{score.success_at_3:.2f} / {score.mrr_at_10:.2f}",
                "Success@3 ≥ 0,9" if target else "",
                score.success_at_3 >= 0.9 if target else None,
            )
        )
    return results


def _on_real_documents() -> Score | None:
    """The same questions on a database that holds only fixtures/ (handbook_bench_real)."""
    import io
    import os

    from django.core.management import call_command
    from django.db import connection

    from bench import BENCH_DB_NAME, ensure_database

    base_url = os.environ["DATABASE_URL"]
    real_name = f"{BENCH_DB_NAME}_real"
    ensure_database(base_url, name=real_name)
    previous = connection.settings_dict["NAME"]
    connection.close()
    connection.settings_dict["NAME"] = real_name
    try:
        call_command("migrate", verbosity=0, interactive=False)
        call_command("load_handbook", stdout=io.StringIO())
        return evaluate(anonymous_urls)
    finally:
        connection.close()
        connection.settings_dict["NAME"] = previous
