import io

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from policies.models import DigestDelivery, Event, EventVerb

from .factories import make_person, publish_version
from .jobs import send_queued
from .manager_setup import make_world

pytestmark = pytest.mark.django_db


def _run(*args) -> str:
    """Queue the digest as cron would, then let the worker's delivery code send what was queued."""
    out = io.StringIO()
    call_command("send_digest", *args, stdout=out)
    send_queued()
    return out.getvalue()


def test_digest_lists_what_each_person_must_confirm_and_summarises_for_managers():
    world = make_world()
    output = _run("--organisation", "testvik")
    by_recipient = {}
    for message in mail.outbox:
        by_recipient.setdefault(message.to[0], []).append(message)
    # The carer and the employee have not confirmed; the nurse and the teacher have.
    assert world.carer.email in by_recipient and world.employee.email in by_recipient
    assert world.nurse.email not in by_recipient
    carer = by_recipient[world.carer.email][0]
    assert "Bruk av sosiale medier" in carer.body and "/testvik/sosiale-medier/" in carer.body
    # The Helse manager gets both his own list and a summary of his units.
    subjects = sorted(m.subject for m in by_recipient[world.manager.email])
    assert any("dine enheter" in s for s in subjects)
    summary = next(m for m in by_recipient[world.manager.email] if "dine enheter" in m.subject)
    assert "1 av 3 har bekreftet" in summary.body
    assert "til ledere" in output
    assert Event.objects.filter(verb=EventVerb.DIGEST_SENT).count() == 1


def test_digest_is_sent_once_a_week_however_often_cron_runs():
    make_world()
    _run()
    sent = len(mail.outbox)
    deliveries = DigestDelivery.objects.count()
    assert sent > 0 and deliveries == sent
    output = _run()
    assert len(mail.outbox) == sent
    assert DigestDelivery.objects.count() == deliveries
    assert "allerede sendt" in output


def test_dry_run_sends_and_records_nothing():
    make_world()
    output = _run("--dry-run")
    assert "prøvekjøring" in output
    assert mail.outbox == []
    assert DigestDelivery.objects.count() == 0
    assert not Event.objects.filter(verb=EventVerb.DIGEST_SENT).exists()


def test_people_without_email_or_inactive_get_nothing():
    world = make_world()
    make_person(world.organisation, unit=world.ward, email="")
    make_person(
        world.organisation, unit=world.ward, email="sluttet@example.invalid", is_active=False
    )
    _run()
    recipients = {m.to[0] for m in mail.outbox}
    assert "sluttet@example.invalid" not in recipients and "" not in recipients


def test_unknown_organisation_is_a_clear_error():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="Fant ingen kommune"):
        _run("--organisation", "finnes-ikke")


def test_a_manager_whose_units_are_in_another_kommune_does_not_stop_the_kommunes_digest(
    django_capture_on_commit_callbacks,
):
    from .factories import make_organisation, make_unit

    world = make_world()
    elsewhere = make_unit(make_organisation(), "Enhet i nabokommunen")
    # Left over from a bad admin edit: a Testvik person managing only another kommune's unit.
    make_person(world.organisation, unit=world.school, manages=[elsewhere])

    with django_capture_on_commit_callbacks(execute=True):
        _run("--organisation", "testvik")

    recipients = {message.to[0] for message in mail.outbox}
    assert world.carer.email in recipients and world.manager.email in recipients
    assert Event.objects.filter(verb=EventVerb.DIGEST_SENT).count() == 1


def test_the_digest_sends_only_those_who_confirmed_before_to_what_changed():
    """After a material change, "what changed" is enough only for someone who confirmed an
    earlier version; a person who never confirmed any must read the whole policy."""
    world = make_world()
    # The nurse confirmed version 1 (make_world); the carer never confirmed anything.
    publish_version(world.policy, body="## Formål\n\nStrengere.\n", change_note="Strengere.")
    _run("--organisation", "testvik")
    body = {m.to[0]: m.body for m in mail.outbox if m.subject.startswith("Ukesoversikt")}
    changes = "/testvik/sosiale-medier/endringer/?fra=1&til=2"
    today = timezone.localdate()
    assert changes in body[world.nurse.email]
    assert f"Retningslinjen ble endret vesentlig {today:%d.%m.%Y}." in body[world.nurse.email]
    assert changes not in body[world.carer.email]
    assert "/testvik/sosiale-medier/\n" in body[world.carer.email]
