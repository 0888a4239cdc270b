"""The right of access (GDPR art. 15): everything Håndboka holds about one person, in one place.

`/meg/mine-data/` shows it as a page a person can read (and print); `/meg/mine-data.json` gives the
same as a file. Other people appear only as far as they are part of the person's own records (the
organisation, the units), never by name.
"""

from __future__ import annotations

from axes.models import AccessFailureLog, AccessLog
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from policies.formats import date_text, datetime_text
from policies.models import Acknowledgement, DigestDelivery, Event, Reminder

# Section keys in display order, with the headings the page shows.
SECTIONS = {
    "bekreftelser": _("Bekreftelser"),
    "paminnelser": _("Påminnelser du har fått"),
    "ukesoversikter": _("Ukesoversikter du har fått"),
    "hendelser": _("Hendelser der du er registrert som den som utførte dem"),
    "innlogginger": _("Innlogginger og mislykkede innloggingsforsøk"),
}


def _time(value) -> str:
    return datetime_text(value)


def _yes(value: bool) -> str:
    return "ja" if value else "nei"


def personal_data(person) -> dict:
    """The person's data as plain values (strings, numbers, lists, dicts), ready for JSON or a page."""
    acks = (
        Acknowledgement.objects.of(person)
        .select_related("version__policy__organisation")
        .order_by("-acknowledged_at", "-pk")
    )
    reminders = Reminder.objects.filter(person=person).select_related("policy").order_by("-sent_at")
    digests = DigestDelivery.objects.filter(person=person).order_by("-sent_at")
    events = (
        Event.objects.filter(actor=person)
        .select_related("policy", "version")
        .order_by("-created_at", "-pk")
    )
    sign_ins = [
        {"tidspunkt": _time(log.attempt_time), "utfall": "innlogget", "ip_adresse": log.ip_address}
        for log in AccessLog.objects.filter(username=person.username).order_by("-attempt_time")
    ] + [
        {"tidspunkt": _time(log.attempt_time), "utfall": "mislyktes", "ip_adresse": log.ip_address}
        for log in AccessFailureLog.objects.filter(username=person.username).order_by(
            "-attempt_time"
        )
    ]
    return {
        "person": {
            "brukernavn": person.username,
            "fornavn": person.first_name,
            "etternavn": person.last_name,
            "epost": person.email,
            "ansattnummer": person.employee_number,
            "kommune": person.organisation.name if person.organisation else "",
            "enhet": person.unit.name if person.unit else "",
            "i_enheten_siden": date_text(person.unit_since) or None,
            "folkevalgt": person.is_elected_official,
            "aktiv": person.is_active,
            "registrert": _time(person.date_joined),
            "sist_innlogget": _time(person.last_login),
        },
        "roller": {
            "redaktor": _yes(person.is_editor),
            "ser_hele_kommunen": _yes(person.sees_whole_organisation),
            "leder_for": [unit.name for unit in person.managed_units.order_by("name")],
            "administrator": _yes(person.is_superuser or person.is_staff),
        },
        "bekreftelser": [
            {
                "kommune": ack.version.policy.organisation.name,
                "retningslinje": ack.version.title,
                "adresse": ack.version.get_absolute_url(),
                "versjon": ack.version.number,
                "bekreftet": datetime_text(ack.acknowledged_at),
                "malform": ack.language,
                "referanse": ack.reference,
                "teksthash": ack.text_hash,
            }
            for ack in acks
        ],
        "paminnelser": [
            {"retningslinje": r.policy.title, "sendt": _time(r.sent_at)} for r in reminders
        ],
        "ukesoversikter": [
            {"uke": date_text(d.week), "type": d.get_kind_display(), "sendt": _time(d.sent_at)}
            for d in digests
        ],
        "hendelser": [
            {
                "tidspunkt": _time(e.created_at),
                "hendelse": e.get_verb_display(),
                "retningslinje": e.policy.title if e.policy else "",
                "versjon": e.version.number if e.version else "",
            }
            for e in events
        ],
        "innlogginger": sign_ins,
        "hentet": _time(timezone.now()),
    }
