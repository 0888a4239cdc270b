"""Offboarding a kommune: export everything of one organisation, then remove it from the database.

`export_organisation` writes one ZIP archive a person can open and read (docs/offboarding.md):
each published version as Markdown and as a standalone HTML page, the people, units, confirmations,
events, reminders and digests as CSV for Excel (semicolons, UTF-8 with BOM), an `innhold.html` that
links it all, a `LESMEG.txt`, a `manifest.json` with counts, and `SHA256SUMS` (checkable with
`sha256sum -c SHA256SUMS`).

Everything a person types (names, titles, notes) may start with "=", "+", "-" or "@": in the CSV
files such a cell gets a leading apostrophe, as in every other export (policies.exports.csv_safe),
so Excel shows it as text and never runs it as a formula.

`offboard` does the export and the removal in one transaction: it locks the organisation, exports,
deletes every row that belongs to it, checks that what it deleted is exactly what it exported, and
writes one `offboarded` event (with the archive's SHA-256) that outlives the organisation. The
append-only and immutability triggers are lifted only for this transaction and only for the rows
deleted here: `pgtrigger.ignore` sets `pgtrigger.ignore` with `set_config(…, true)` (SET LOCAL) on
each statement, which the triggers read; every other connection, and this one afterwards, is refused
as before.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import html
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pgtrigger
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, override

from outbox.models import Email
from people.language import person_language
from people.models import Organisation, Person, Unit
from policies.exports import csv_safe
from policies.models import (
    Acknowledgement,
    ComplianceSummary,
    DigestDelivery,
    Event,
    EventVerb,
    LatestAcknowledgement,
    Policy,
    PolicyVersion,
    Reminder,
    ReminderRun,
    Status,
    Translation,
    TranslationStatus,
)
from signin.models import SignInEvent, SignInIdentity

# Exactly the triggers offboarding must pass; every other trigger keeps working inside it too.
LIFTED_TRIGGERS = (
    "policies.Acknowledgement:ack_append_only",
    "policies.Event:event_append_only",
    "policies.PolicyVersion:version_published_undeletable",
    "policies.Translation:translation_frozen_after_publish",
    "signin.SignInEvent:signin_event_undeletable",
)


class OffboardingError(Exception):
    pass


@dataclass(frozen=True)
class Archive:
    path: Path
    sha256: str
    counts: dict[str, int]


def _csv(header: list[str], rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([csv_safe(cell) for cell in row] for row in rows)
    # The byte-order mark tells Excel the file is UTF-8, so æ, ø and å come out right.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _date(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")
    return value.isoformat()


def _page(title: str, body: str, *, language: str = "nb") -> bytes:
    return (
        f'<!doctype html>\n<html lang="{language}">\n<head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<style>body{font-family:sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem;"
        "line-height:1.5}table{border-collapse:collapse}td,th{border:1px solid #999;"
        "padding:.2rem .5rem;text-align:left}</style></head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    ).encode()


def _events(organisation: Organisation):
    return Event.objects.filter(
        Q(organisation=organisation)
        | Q(policy__organisation=organisation)
        | Q(actor__organisation=organisation)
    ).distinct()


def _sign_ins(organisation: Organisation):
    return SignInEvent.objects.filter(
        Q(organisation=organisation) | Q(person__organisation=organisation)
    ).distinct()


def _emails(organisation: Organisation) -> list[int]:
    """The outbox rows of e-mails sent to the kommune's people: their receipts' e-mails, and any
    other e-mail to an address only the kommune's people have."""
    people = Person.objects.filter(organisation=organisation)
    addresses = set(
        people.exclude(email="").annotate(address=Lower("email")).values_list("address", flat=True)
    )
    addresses -= set(
        Person.objects.exclude(organisation=organisation)
        .annotate(address=Lower("email"))
        .filter(address__in=addresses)
        .values_list("address", flat=True)
    )
    reminders = Reminder.objects.filter(Q(policy__organisation=organisation) | Q(person__in=people))
    digests = DigestDelivery.objects.filter(person__in=people)
    return sorted(
        {
            *reminders.exclude(email=None).values_list("email_id", flat=True),
            *digests.exclude(email=None).values_list("email_id", flat=True),
            *Email.objects.annotate(address=Lower("to"))
            .filter(address__in=addresses)
            .values_list("pk", flat=True),
        }
    )


def _contents(organisation: Organisation) -> tuple[dict[str, bytes], dict[str, int]]:
    """Every file of the archive by its path inside it, and the row counts. What a person reads
    (LESMEG.txt, innhold.html, the facts above each version) is in the kommune's målform, bokmål
    for a neutral one; the spreadsheets' column names are keys and stay as they are."""
    language = person_language(None, organisation.language)
    with override(language):
        return _contents_in(organisation, language)


def _contents_in(
    organisation: Organisation, language: str
) -> tuple[dict[str, bytes], dict[str, int]]:
    files: dict[str, bytes] = {}
    people = Person.objects.filter(organisation=organisation).select_related("unit").order_by("pk")
    units = Unit.objects.filter(organisation=organisation).order_by("path")
    policies = Policy.objects.filter(organisation=organisation).order_by("slug")
    versions = (
        PolicyVersion.objects.filter(policy__organisation=organisation)
        .issued()
        .select_related("policy", "published_by")
        .order_by("policy__slug", "number")
    )
    drafts = PolicyVersion.objects.filter(
        policy__organisation=organisation, status__in=[Status.DRAFT, Status.DISCARDED]
    )
    acks = (
        Acknowledgement.objects.filter(version__policy__organisation=organisation)
        .select_related("person", "version__policy")
        .order_by("pk")
    )
    events = _events(organisation).select_related("actor", "policy", "version").order_by("pk")
    reminders = Reminder.objects.filter(policy__organisation=organisation).order_by("pk")
    digests = DigestDelivery.objects.filter(person__organisation=organisation).order_by("pk")
    sign_ins = _sign_ins(organisation).order_by("pk")

    files["enheter.csv"] = _csv(
        ["id", "navn", "overordnet_id", "sti"],
        ([u.pk, u.name, u.parent_id or "", u.path] for u in units),
    )
    files["personer.csv"] = _csv(
        ["id", "brukernavn", "fornavn", "etternavn", "epost", "ansattnummer", "enhet", "aktiv",
         "sluttet", "pseudonymisert", "folkevalgt", "redaktor", "ser_hele_kommunen", "leder_for"],
        (
            [p.pk, p.username, p.first_name, p.last_name, p.email, p.employee_number,
             p.unit.name if p.unit else "", "ja" if p.is_active else "nei", _date(p.left_on),
             _date(p.pseudonymised_at), "ja" if p.is_elected_official else "nei",
             "ja" if p.is_editor else "nei", "ja" if p.sees_whole_organisation else "nei",
             " | ".join(u.name for u in p.managed_units.all())]
            for p in people.prefetch_related("managed_units")
        ),
    )  # fmt: skip
    files["retningslinjer.csv"] = _csv(
        ["id", "adresse", "tittel", "synlighet", "hele_kommunen", "folkevalgte", "trukket_tilbake"],
        (
            [p.pk, p.slug, p.title, p.visibility, "ja" if p.audience_all else "nei",
             "ja" if p.audience_elected else "nei", _date(p.retired_at)]
            for p in policies
        ),
    )  # fmt: skip
    files["versjoner.csv"] = _csv(
        ["id", "retningslinje", "versjon", "status", "tittel", "endring", "endringsnotat",
         "vedtatt_av", "vedtatt_dato", "gyldig_fra", "publisert", "publisert_av_id", "sha256_tekst"],
        (
            [v.pk, v.policy.slug, v.number, v.status, v.title, v.change_kind, v.change_note,
             v.adopted_by, _date(v.adopted_on), _date(v.effective_from), _date(v.published_at),
             v.published_by_id or "", v.text_hash]
            for v in versions
        ),
    )  # fmt: skip
    files["bekreftelser.csv"] = _csv(
        ["id", "person_id", "navn", "ansattnummer", "retningslinje", "versjon", "bekreftet",
         "malform", "sha256_tekst_vist"],
        (
            [a.pk, a.person_id, a.person.get_full_name(), a.person.employee_number,
             a.version.policy.slug, a.version.number, _date(a.acknowledged_at), a.language,
             a.text_hash]
            for a in acks
        ),
    )  # fmt: skip
    files["hendelser.csv"] = _csv(
        ["id", "tidspunkt", "hendelse", "utfort_av_id", "utfort_av", "retningslinje", "versjon",
         "detaljer"],
        (
            [e.pk, _date(e.created_at), e.get_verb_display(), e.actor_id or "",
             e.actor.get_full_name() if e.actor else "", e.policy.slug if e.policy else "",
             e.version.number if e.version else "", json.dumps(e.detail, ensure_ascii=False)]
            for e in events
        ),
    )  # fmt: skip
    files["paminnelser.csv"] = _csv(
        ["id", "person_id", "retningslinje_id", "sendt_av_id", "sendt"],
        ([r.pk, r.person_id, r.policy_id, r.sent_by_id or "", _date(r.sent_at)] for r in reminders),
    )
    files["ukesoversikter.csv"] = _csv(
        ["id", "person_id", "uke", "type", "sendt"],
        ([d.pk, d.person_id, _date(d.week), d.kind, _date(d.sent_at)] for d in digests),
    )
    files["palogginger.csv"] = _csv(
        ["id", "tidspunkt", "utfall", "person_id", "ip_adresse", "detaljer"],
        (
            [e.pk, _date(e.created_at), e.get_outcome_display(), e.person_id or "",
             e.ip_address or "", json.dumps(e.detail, ensure_ascii=False)]
            for e in sign_ins
        ),
    )  # fmt: skip

    translations: dict[int, list[Translation]] = {}
    for translation in Translation.objects.filter(
        version__in=versions, status=TranslationStatus.PUBLISHED
    ).order_by("language"):
        translations.setdefault(translation.version_id, []).append(translation)
    listing = []
    for version in versions:
        stem = f"retningslinjer/{version.policy.slug}/versjon-{version.number}"
        adopted = f"{version.adopted_by} {_date(version.adopted_on)}".strip()
        meta = _(
            "Kommune: %(kommune)s\n"
            "Retningslinje: %(policy)s\n"
            "Versjon: %(number)s (%(status)s, %(kind)s)\n"
            "Publisert: %(published)s\n"
            "Vedtatt av: %(adopted)s\n"
            "SHA-256 av teksten: %(hash)s\n"
        ) % {
            "kommune": organisation.name,
            "policy": version.policy.slug,
            "number": version.number,
            "status": version.get_status_display(),
            "kind": version.get_change_kind_display(),
            "published": _date(version.published_at),
            "adopted": adopted or "–",
            "hash": version.text_hash,
        }
        # The facts are in the kommune's målform, the text in its own.
        facts = (
            f'<p lang="{language}"><small>{html.escape(meta).replace(chr(10), "<br>")}</small></p>'
        )
        page_title = _("%(title)s, versjon %(number)s")
        files[f"{stem}.md"] = (f"<!--\n{meta}-->\n\n# {version.title}\n\n{version.body}\n").encode()
        files[f"{stem}.html"] = _page(
            page_title % {"title": version.title, "number": version.number},
            f"{facts}\n<h1>{html.escape(version.title)}</h1>\n{version.body_html}",
            language=version.language,
        )
        read = html.escape(_("les"))
        links = f'<a href="{stem}.html">{read}</a> · <a href="{stem}.md">Markdown</a>'
        # A published translation of the version ("nn"): the same version in another målform.
        for translation in translations.get(version.pk, []):
            lang = translation.language
            note = meta + _(
                "Målform: %(language)s (oversettelse av versjon %(number)s)\n"
                "SHA-256 av oversettelsen: %(hash)s\n"
            ) % {
                "language": translation.get_language_display(),
                "number": version.number,
                "hash": translation.text_hash,
            }
            facts = (
                f'<p lang="{language}"><small>{html.escape(note).replace(chr(10), "<br>")}'
                "</small></p>"
            )
            files[f"{stem}.{lang}.md"] = (
                f"<!--\n{note}-->\n\n# {translation.title}\n\n{translation.body}\n"
            ).encode()
            files[f"{stem}.{lang}.html"] = _page(
                page_title % {"title": translation.title, "number": version.number},
                f"{facts}\n<h1>{html.escape(translation.title)}</h1>\n{translation.body_html}",
                language=lang,
            )
            links += (
                f' · {html.escape(translation.get_language_display())}: <a href="{stem}.{lang}.html"'
                f'>{read}</a> · <a href="{stem}.{lang}.md">Markdown</a>'
            )
        listing.append(
            f"<tr><td>{html.escape(version.title)}</td><td>{version.number}</td>"
            f"<td>{html.escape(version.get_status_display())}</td><td>{links}</td></tr>"
        )

    counts = {
        "enheter": units.count(),
        "personer": people.count(),
        "retningslinjer": policies.count(),
        "versjoner": versions.count(),
        "oversettelser": sum(len(t) for t in translations.values()),
        "utkast_ikke_eksportert": drafts.count(),
        "bekreftelser": acks.count(),
        "hendelser": events.count(),
        "paminnelser": reminders.count(),
        "ukesoversikter": digests.count(),
        "palogginger": sign_ins.count(),
    }

    def rows(name: str) -> str:
        count = counts[name.removesuffix(".csv")]
        return ngettext("%(count)s rad", "%(count)s rader", count) % {"count": count}

    tables = "".join(
        f'<li><a href="{name}">{name}</a> ({rows(name)})</li>'
        for name in ("personer.csv", "enheter.csv", "retningslinjer.csv", "versjoner.csv",
                     "bekreftelser.csv", "hendelser.csv", "paminnelser.csv", "ukesoversikter.csv",
                     "palogginger.csv")
    )  # fmt: skip
    intro = _(
        "Eksportert %(at)s. Alt kommunen hadde i Håndboka: retningslinjene med alle publiserte "
        "versjoner, og som regneark personene, enhetene, bekreftelsene og hendelsesloggen. Se "
        "LESMEG.txt for hvordan du kontrollerer at filene er uendret."
    ) % {"at": _date(timezone.now())}
    headers = "".join(
        f"<th>{html.escape(h)}</th>" for h in (_("Tittel"), _("Versjon"), _("Status"), _("Filer"))
    )
    files["innhold.html"] = _page(
        f"Håndboka: {organisation.name}",
        f"<h1>Håndboka: {html.escape(organisation.name)}</h1>\n<p>{html.escape(intro)}</p>\n"
        f"<h2>{html.escape(_('Retningslinjer'))}</h2>\n<table><tr>{headers}</tr>"
        f"{''.join(listing)}</table>\n<h2>{html.escape(_('Regneark'))}</h2>\n<ul>{tables}</ul>",
        language=language,
    )
    files["LESMEG.txt"] = _readme(organisation).encode()
    return files, counts


def _readme(organisation: Organisation) -> str:
    """LESMEG.txt: what is in the archive and how to check it, in the active language."""
    # Translators: keep the columns lined up (file names and column names are not translated).
    return _(
        "Eksport av %(kommune)s fra Håndboka (%(at)s)\n\n"
        "Åpne innhold.html i en nettleser for en oversikt.\n\n"
        "retningslinjer/<adresse>/versjon-<n>.html  hver publiserte versjon som nettside\n"
        "retningslinjer/<adresse>/versjon-<n>.md    den samme teksten i Markdown\n"
        "retningslinjer/<adresse>/versjon-<n>.nn.*  versjonen på nynorsk (oversettelse), der den finnes\n"
        "*.csv                                     regneark som åpnes i Excel (se under)\n"
        "manifest.json                             antall rader og sjekksum for hver fil\n"
        "SHA256SUMS                                kontroller med: sha256sum -c SHA256SUMS\n\n"
        "Regnearkene\n"
        "personer.csv        alle personer: navn, e-post, ansattnummer, enhet, roller, når de\n"
        "                    sluttet og når de ble pseudonymisert (da står det slettet-<id>)\n"
        "enheter.csv         enhetene og hvilken enhet hver av dem ligger under\n"
        "retningslinjer.csv  retningslinjene: adresse, tittel, synlighet og målgruppe\n"
        "versjoner.csv       hver publiserte versjon: status, endringstype, vedtak og SHA-256\n"
        "bekreftelser.csv    hvem som bekreftet hvilken versjon når, på hvilken målform (nb/nn),\n"
        "                    med SHA-256 av teksten personen fikk se\n"
        "hendelser.csv       revisjonsloggen: hvem gjorde hva og når\n"
        "paminnelser.csv     påminnelser som er sendt\n"
        "ukesoversikter.csv  ukentlige oversikter som er sendt\n"
        "palogginger.csv     påloggingsloggen (når, utfall, person og IP-adresse)\n\n"
        "Alle regnearkene har overskrifter i første rad, semikolon mellom kolonnene og\n"
        "tegnkoding UTF-8 med BOM, slik at Excel viser æ, ø og å riktig når du åpner filen\n"
        "direkte. Tidspunkter er norsk tid (Europe/Oslo), på formen ÅÅÅÅ-MM-DD TT:MM:SS.\n"
        "person_id i ett regneark er id i personer.csv. En celle som begynner med =, +, - eller\n"
        "@, har fått en apostrof foran, så Excel viser den som tekst og ikke som formel.\n\n"
        "Utkast som aldri ble publisert, er ikke med.\n"
    ) % {"kommune": organisation.name, "at": _date(timezone.now())}


def export_organisation(organisation: Organisation, *, to: Path) -> Archive:
    """Write the organisation's archive into the folder `to`; return its path and checksum."""
    files, counts = _contents(organisation)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    root = f"handboka-{organisation.slug}-{stamp}"
    sums = {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())}
    manifest = {
        "kommune": {"navn": organisation.name, "adresse": organisation.slug},
        "eksportert": timezone.now().isoformat(),
        "antall": counts,
        "filer": [{"fil": name, "sha256": digest, "bytes": len(files[name])} for name, digest in sums.items()],
    }  # fmt: skip
    files["manifest.json"] = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
    sums["manifest.json"] = hashlib.sha256(files["manifest.json"]).hexdigest()
    files["SHA256SUMS"] = "".join(f"{d}  {n}\n" for n, d in sorted(sums.items())).encode()
    to.mkdir(parents=True, exist_ok=True)
    path = to / f"{root}.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(files.items()):
            archive.writestr(f"{root}/{name}", data)
    # Names, e-mail addresses and confirmations: readable by the operator who made it, no one else.
    path.chmod(0o600)
    return Archive(path=path, sha256=hashlib.sha256(path.read_bytes()).hexdigest(), counts=counts)


def offboard(organisation: Organisation, *, to: Path, by: Person | None = None) -> Archive:
    """Export `organisation`, then remove everything of it, in one audited transaction."""
    with transaction.atomic():
        # Nobody may change the organisation's rows between the export and the removal.
        organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
        archive = export_organisation(organisation, to=to)
        with pgtrigger.ignore(*LIFTED_TRIGGERS):
            deleted = _remove(organisation)
        exported = archive.counts
        expected = {
            "bekreftelser": exported["bekreftelser"],
            "hendelser": exported["hendelser"],
            "palogginger": exported["palogginger"],
            "personer": exported["personer"],
            "versjoner": exported["versjoner"],
        }
        if {k: deleted[k] for k in expected} != expected:
            raise OffboardingError(
                f"Det som ble slettet ({deleted}), er ikke det som ble eksportert ({exported}). "
                "Ingenting er endret."
            )
        Event.objects.create(
            organisation=None,
            actor=by,
            verb=EventVerb.OFFBOARDED,
            detail={
                "organisation": organisation.slug,
                "name": organisation.name,
                "archive": archive.path.name,
                "archive_sha256": archive.sha256,
                "deleted": deleted,
            },
        )
    return archive


def _deleted(queryset) -> int:
    """How many rows of the queryset's own model a delete removed (not counting cascades)."""
    _total, per_model = queryset.delete()
    return per_model.get(queryset.model._meta.label, 0)


def _remove(organisation: Organisation) -> dict[str, int]:
    people = Person.objects.filter(organisation=organisation)
    usernames = list(people.values_list("username", flat=True))
    emails = _emails(organisation)
    versions = PolicyVersion.objects.filter(policy__organisation=organisation)
    # The compliance bookkeeping the acknowledgement triggers keep (policies/0002_obligation) goes
    # first: it points at the confirmations, which nothing but this operation ever deletes.
    LatestAcknowledgement.objects.filter(
        Q(policy__organisation=organisation) | Q(person__in=people)
    ).delete()
    ComplianceSummary.objects.filter(
        Q(organisation=organisation) | Q(policy__organisation=organisation)
    ).delete()
    deleted = {
        "bekreftelser": _deleted(
            Acknowledgement.objects.filter(Q(version__in=versions) | Q(person__in=people))
        ),
        "hendelser": _deleted(
            Event.objects.filter(pk__in=list(_events(organisation).values_list("pk", flat=True)))
        ),
        "paminnelser": _deleted(
            Reminder.objects.filter(Q(policy__organisation=organisation) | Q(person__in=people))
        ),
        # The managers' requests behind them (transient: expanded into the rows above).
        "paminnelsesrunder": _deleted(
            ReminderRun.objects.filter(Q(policy__organisation=organisation) | Q(sent_by__in=people))
        ),
        "ukesoversikter": _deleted(DigestDelivery.objects.filter(person__in=people)),
        "palogginger": _deleted(
            SignInEvent.objects.filter(
                pk__in=list(_sign_ins(organisation).values_list("pk", flat=True))
            )
        ),
    }
    # The e-mails sent to the kommune's people: transport, not evidence, and full of names.
    deleted["epost"] = _deleted(Email.objects.filter(pk__in=emails))
    SignInIdentity.objects.filter(Q(organisation=organisation) | Q(person__in=people)).delete()
    # Translations point at their versions: they go first (their sections with them).
    deleted["oversettelser"] = _deleted(Translation.objects.filter(version__in=versions))
    # Drafts start from a published version, and versions from earlier ones: drafts first, then
    # the published versions newest first.
    versions.filter(status__in=[Status.DRAFT, Status.DISCARDED]).delete()
    deleted["versjoner"] = 0
    for version_id in versions.order_by("-number").values_list("pk", flat=True):
        deleted["versjoner"] += _deleted(PolicyVersion.objects.filter(pk=version_id))
    deleted["retningslinjer"] = _deleted(Policy.objects.filter(organisation=organisation))
    Person.managed_units.through.objects.filter(person__in=people).delete()
    deleted["personer"] = _deleted(people)
    units = list(Unit.objects.filter(organisation=organisation))
    # Children before parents: the longest paths first.
    for unit in sorted(units, key=lambda u: -len(u.path)):
        unit.delete()
    deleted["enheter"] = len(units)
    for model in (AccessAttempt, AccessLog, AccessFailureLog):
        model.objects.filter(username__in=usernames).delete()
    organisation.delete()
    return deleted
