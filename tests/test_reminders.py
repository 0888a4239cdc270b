import datetime

import pytest
from django.core import mail
from django.utils import timezone

from policies.access import manager_scope
from policies.models import Event, EventVerb, Reminder
from policies.reminders import plan_reminders, remind

from .factories import make_person
from .manager_setup import make_world

pytestmark = pytest.mark.django_db


def _url(world):
    return f"/oversikt/enhet/{world.health.pk}/retningslinje/{world.policy.slug}/paminnelse/"


def test_reminder_goes_to_everyone_in_my_units_who_has_not_confirmed(
    client, django_capture_on_commit_callbacks, settings
):
    settings.SITE_URL = "https://handbok.example.no"
    world = make_world()
    client.force_login(world.manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url(world))
    assert response.status_code == 302
    # The carer and the manager himself have not confirmed; the nurse has; the school is not his.
    recipients = sorted(message.to[0] for message in mail.outbox)
    assert recipients == sorted([world.carer.email, world.manager.email])
    message = next(m for m in mail.outbox if m.to == [world.carer.email])
    assert "Påminnelse" in message.subject and "Bruk av sosiale medier" in message.subject
    assert "https://handbok.example.no/testvik/sosiale-medier/" in message.body
    assert "Hei Bjørn" in message.body
    event = Event.objects.get(verb=EventVerb.REMINDED)
    assert event.actor == world.manager and event.detail["sent"] == 2


def test_email_is_sent_only_after_the_transaction_commits(django_capture_on_commit_callbacks):
    world = make_world()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        remind(scope=manager_scope(world.manager), policy=world.policy, unit=None, by=world.manager)
    assert mail.outbox == []
    assert len(callbacks) == 1
    callbacks[0]()
    assert len(mail.outbox) == 2


def test_nobody_is_reminded_twice_within_seven_days(client, django_capture_on_commit_callbacks):
    world = make_world()
    client.force_login(world.manager)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(_url(world))
        # A double submit, or a second click a minute later.
        response = client.post(_url(world), follow=True)
    assert len(mail.outbox) == 2
    assert Reminder.objects.count() == 2
    assert "Ingen påminnelser ble sendt" in response.content.decode()
    assert "2 hoppet over" in response.content.decode()


def test_a_reminder_older_than_seven_days_does_not_stop_a_new_one(
    django_capture_on_commit_callbacks,
):
    world = make_world()
    Reminder.objects.create(
        person=world.carer,
        policy=world.policy,
        sent_at=timezone.now() - datetime.timedelta(days=8),
    )
    Reminder.objects.create(
        person=world.manager,
        policy=world.policy,
        sent_at=timezone.now() - datetime.timedelta(days=6),
    )
    with django_capture_on_commit_callbacks(execute=True):
        plan = remind(
            scope=manager_scope(world.manager), policy=world.policy, unit=None, by=world.manager
        )
    assert [p.pk for p in plan.recipients] == [world.carer.pk]
    assert plan.recently_reminded == 1
    assert [m.to for m in mail.outbox] == [[world.carer.email]]


def test_confirmation_page_says_how_many_get_it_and_how_many_are_skipped(client):
    world = make_world()
    make_person(world.organisation, unit=world.ward, email="")
    Reminder.objects.create(person=world.carer, policy=world.policy)
    client.force_login(world.manager)
    html = client.get(_url(world)).content.decode()
    assert "1 person</strong>" in html  # the manager himself
    assert "2 hoppes over" in html
    assert "1 fikk påminnelse de siste sju dagene" in html
    assert "1 mangler e-postadresse" in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert "Send påminnelse til 1" in html


def test_reminder_needs_a_post_with_csrf(client):
    world = make_world()
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(world.manager)
    assert strict.post(_url(world)).status_code == 403
    assert Reminder.objects.count() == 0
    assert client.put(_url(world)).status_code in (302, 405)


def test_plan_counts_without_sending(django_capture_on_commit_callbacks):
    world = make_world()
    with django_capture_on_commit_callbacks(execute=True):
        plan = plan_reminders(scope=manager_scope(world.manager), policy=world.policy)
    assert len(plan.recipients) == 2 and plan.skipped == 0
    assert mail.outbox == [] and Reminder.objects.count() == 0


class BrokenBackend:
    """An e-mail backend whose server is down."""

    def __init__(self, *args, **kwargs):
        pass

    def __enter__(self):
        raise ConnectionRefusedError("SMTP server is down")

    def __exit__(self, *args):
        return False


def test_a_mail_server_that_is_down_does_not_break_the_page(
    client, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.test_reminders.BrokenBackend"
    world = make_world()
    client.force_login(world.manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url(world))
    assert response.status_code == 302
    assert Reminder.objects.count() == 2
