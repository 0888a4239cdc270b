"""Every e-mail in its recipient's målform: the person's own choice, else the kommune's, and bokmål
for a neutral kommune (people.language.person_language). Sent by procrastinate's real worker to a
real SMTP server (aiosmtpd), as the outbox tests do."""

import datetime

import pytest
from django.utils import timezone

from policies.access import manager_scope
from policies.models import ChangeKind
from policies.reminders import request_reminders, send_digests

from .factories import make_organisation, make_person, make_policy, make_unit, publish_version
from .jobs import run_worker
from .manager_setup import make_world
from .test_translations import translate

pytestmark = pytest.mark.django_db(transaction=True)


def _one(sink, person):
    (received,) = sink.to(person.email)
    return received


def _set_language(obj, language):
    obj.language = language
    obj.save(update_fields=["language"])


def _remind(world):
    request_reminders(
        scope=manager_scope(world.manager), policy=world.policy, unit=None, by=world.manager
    )
    # The worker expands the manager's run into e-mails, then (its next round) sends them.
    run_worker()
    run_worker()


def test_a_nynorsk_person_in_a_bokmal_kommune_gets_the_reminder_in_nynorsk(smtp_sink):
    world = make_world()
    _set_language(world.organisation, "nb")
    _set_language(world.carer, "nn")
    _remind(world)
    carer = _one(smtp_sink, world.carer)
    assert carer.subject == "Påminning: stadfest «Bruk av sosiale medier»"
    assert carer.body.startswith("Hei Bjørn,")
    assert "du har enno ikkje stadfesta at du har lese gjeldande versjon" in carer.body
    assert "Les retningslina og stadfest her:" in carer.body
    assert "Dette er ei påminning frå leiaren din, Lise" in carer.body
    assert "bekreft" not in carer.body and "påminnelse" not in carer.body
    # The manager reminded herself too: she keeps the kommune's bokmål.
    manager = _one(smtp_sink, world.manager)
    assert manager.subject == "Påminnelse: bekreft «Bruk av sosiale medier»"
    assert "du har ennå ikke bekreftet" in manager.body and "ikkje" not in manager.body


def test_a_person_in_a_nynorsk_kommune_who_chose_bokmal_gets_the_change_notice_in_bokmal(
    smtp_sink,
):
    moskenes = make_organisation("Moskenes kommune", "moskenes-test")
    _set_language(moskenes, "nn")
    unit = make_unit(moskenes, "Oppvekst")
    make_person(moskenes, unit=unit, first_name="Liv", last_name="Leiar", manages=[unit])
    own_form = make_person(moskenes, unit=unit, first_name="Kari")
    chose_bokmal = make_person(moskenes, unit=unit, first_name="Per", language="nb")
    policy = make_policy(moskenes, title="Sosiale medium")
    publish_version(
        policy, body="## Føremål\n\nStrengare.\n", change_note="Strengare reglar for deling."
    )
    # The worker writes the notices (policies.notify_change), then sends them.
    run_worker()
    run_worker()
    today = timezone.localdate()
    deadline = today + datetime.timedelta(days=policy.versions.current().get().deadline_days)

    nynorsk = _one(smtp_sink, own_form)
    assert nynorsk.subject == (
        f"Endra retningsline: «Sosiale medium» – les og stadfest innan {deadline:%d.%m.%Y}"
    )
    assert (
        f"«Sosiale medium» i Moskenes kommune er endra vesentleg {today:%d.%m.%Y}, alle må "
        f"stadfeste på nytt innan {deadline:%d.%m.%Y}." in nynorsk.body
    )
    assert "Dette er endra: Strengare reglar for deling." in nynorsk.body
    assert "Sjå berre det som er endra, og stadfest nedst på sida:" in nynorsk.body
    assert "leiaren din, Liv Leiar." in nynorsk.body

    bokmal = _one(smtp_sink, chose_bokmal)
    assert bokmal.subject == (
        f"Endret retningslinje: «Sosiale medium» – les og bekreft innen {deadline:%d.%m.%Y}"
    )
    assert f"er endret vesentlig {today:%d.%m.%Y}, alle må bekrefte på nytt" in bokmal.body
    assert "Se bare det som er endret, og bekreft nederst på siden:" in bokmal.body
    assert "lederen din, Liv Leiar." in bokmal.body
    assert "endra" not in bokmal.body.replace("Strengare reglar", "")


def test_the_weekly_digest_speaks_each_persons_form_and_a_neutral_kommune_defaults_to_bokmal(
    smtp_sink,
):
    world = make_world()  # a neutral kommune (no målform)
    _set_language(world.carer, "nn")
    _set_language(world.manager, "nn")
    make_policy(world.organisation, title="Taushetsplikt", slug="taushetsplikt")
    translate(world.policy, title="Bruk av sosiale medium")
    send_digests(organisation=world.organisation, today=timezone.localdate(), dry_run=False)
    run_worker()
    carer = _one(smtp_sink, world.carer)
    # The plural of the language's own catalogue, for the count the person has.
    assert carer.subject == "Vekeoversikt: 2 retningsliner å stadfeste"
    assert "dette må du framleis lese og stadfeste i Håndboka:" in carer.body
    assert "Du får denne oversikta éin gong i veka så lenge noko står att." in carer.body
    assert "- Bruk av sosiale medium – frist" in carer.body
    nurse = _one(smtp_sink, world.nurse)  # confirmed one of the two; no choice of her own
    assert nurse.subject == "Ukesoversikt: 1 retningslinje å bekrefte"
    assert "dette må du fortsatt lese og bekrefte i Håndboka:" in nurse.body
    assert "- Taushetsplikt – frist" in nurse.body and "medium" not in nurse.body
    # The manager reads nynorsk: her personal digest and her units' summary are both in it.
    manager_mail = [m.subject for m in smtp_sink.to(world.manager.email)]
    assert "Vekeoversikt: 2 retningsliner å stadfeste" in manager_mail
    summary = next(m for m in smtp_sink.to(world.manager.email) if "einingane" in m.subject)
    assert summary.subject.startswith("Vekeoversikt for einingane dine: ")
    assert "slik står det til med stadfestingane i einingane dine denne veka:" in summary.body
    assert "- Bruk av sosiale medium: " in summary.body and "har stadfesta" in summary.body
    # The school manager chose nothing in a neutral kommune: bokmål.
    school = next(m for m in smtp_sink.to(world.school_manager.email) if "enheter" in m.subject)
    assert "slik står det til med bekreftelsene i enhetene dine denne uken:" in school.body
    assert "- Bruk av sosiale medier: " in school.body


def test_a_reminder_names_the_policy_by_its_current_translations_title_never_a_behind_one(
    smtp_sink,
):
    world = make_world()
    _set_language(world.carer, "nn")
    translate(world.policy, title="Bruk av sosiale medium")
    _remind(world)
    carer = _one(smtp_sink, world.carer)
    assert carer.subject == "Påminning: stadfest «Bruk av sosiale medium»"
    assert "gjeldande versjon av «Bruk av sosiale medium»" in carer.body
    assert "«Bruk av sosiale medier»" in _one(smtp_sink, world.manager).body

    # A material version leaves that translation behind: the e-mail names the original again,
    # and tells of the change in nynorsk.
    smtp_sink.received.clear()
    publish_version(
        world.policy,
        body="## Formål\n\nNy tekst.\n",
        change_kind=ChangeKind.MATERIAL,
        change_note="Nye regler.",
    )
    run_worker()  # the change notices are written
    run_worker()  # and sent
    notice = _one(smtp_sink, world.carer)
    assert "«Bruk av sosiale medier»" in notice.subject and "Endra retningsline" in notice.subject


def test_the_sql_form_of_the_rule_agrees_with_the_rule_for_every_choice_and_kommune():
    from people.language import person_language, person_language_sql
    from people.models import Person

    organisation = make_organisation()
    choices = ["", "nb", "nn", "se"]  # "se": a form the interface does not have (yet)
    people = {choice: make_person(organisation, language=choice) for choice in choices}
    for kommune in ["", "nb", "nn", "se"]:
        in_sql = dict(
            Person.objects.filter(pk__in=[p.pk for p in people.values()])
            .annotate(mail_language=person_language_sql(kommune))
            .values_list("language", "mail_language")
        )
        assert in_sql == {choice: person_language(choice, kommune) for choice in choices}
    assert person_language("", "") == "nb" and person_language("se", "nn") == "nn"
