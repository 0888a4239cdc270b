import datetime

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone
from procrastinate.contrib.django.models import ProcrastinateJob

from outbox.models import Email
from policies.access import manager_scope
from policies.models import Event, EventVerb, Reminder, ReminderRun
from policies.reminders import expand_reminder_run, plan_reminders, remind, reminder_states

from .factories import make_person, make_policy
from .jobs import expand_queued, queued_email_ids, send_queued
from .manager_setup import make_world

pytestmark = pytest.mark.django_db


def _url(world):
    return f"/oversikt/enhet/{world.health.pk}/retningslinje/{world.policy.slug}/paminnelse/"


def _list_url(world):
    return f"/oversikt/enhet/{world.health.pk}/retningslinje/{world.policy.slug}/"


def test_reminder_goes_to_everyone_in_my_units_who_has_not_confirmed(client, settings):
    settings.SITE_URL = "https://handbok.example.no"
    world = make_world()
    client.force_login(world.manager)
    response = client.post(_url(world))
    assert response.status_code == 302
    send_queued()
    # The carer and the manager himself have not confirmed; the nurse has; the school is not his.
    recipients = sorted(message.to[0] for message in mail.outbox)
    assert recipients == sorted([world.carer.email, world.manager.email])
    message = next(m for m in mail.outbox if m.to == [world.carer.email])
    assert "Påminnelse" in message.subject and "Bruk av sosiale medier" in message.subject
    assert "https://handbok.example.no/testvik/sosiale-medier/" in message.body
    assert "Hei Bjørn" in message.body and "Testvik kommune" in message.body
    event = Event.objects.get(verb=EventVerb.REMINDED)
    assert event.actor == world.manager and event.detail["sent"] == 2


def test_reminders_are_queued_in_the_managers_transaction_and_not_sent_in_the_request(client):
    world = make_world()
    client.force_login(world.manager)
    client.post(_url(world))
    # The request writes the run (the cause) and ONE job that expands it; nothing is sent.
    assert mail.outbox == []
    run = ReminderRun.objects.get()
    assert run.planned == 2 and run.expanded_at is None and run.sent_by == world.manager
    assert _expansion_jobs() == [run.pk]
    assert Email.objects.count() == 0
    # The worker's job: the e-mails, the Reminder rows and the delivery jobs, once.
    assert expand_reminder_run(run.pk) == 2
    assert expand_reminder_run(run.pk) == 0
    emails = list(Email.objects.order_by("pk"))
    assert [e.status for e in emails] == ["venter", "venter"]
    assert queued_email_ids() == [e.pk for e in emails]
    assert Reminder.objects.filter(email__in=emails).count() == 2
    assert set(Reminder.objects.values_list("sent_at", flat=True)) == {run.asked_at}
    run.refresh_from_db()
    assert run.queued == 2 and run.expanded_at is not None


def _expansion_jobs() -> list[int]:
    return [
        args["run_id"]
        for args in ProcrastinateJob.objects.filter(
            task_name="policies.expand_reminders", status="todo"
        ).values_list("args", flat=True)
    ]


def test_a_manager_who_clicks_while_the_run_is_not_expanded_queues_nothing_twice(client):
    world = make_world()
    client.force_login(world.manager)
    client.post(_url(world))
    # A double submit, or a second click before the worker has expanded the first run.
    response = client.post(_url(world), follow=True)
    assert "Ingen påminnelser ble sendt" in response.content.decode()
    assert ReminderRun.objects.count() == 1 and len(_expansion_jobs()) == 1
    plan = plan_reminders(scope=manager_scope(world.manager), policy=world.policy)
    assert plan.recipients == [] and plan.recently_reminded == 2
    events = Event.objects.filter(verb=EventVerb.REMINDED).order_by("pk")
    assert [e.detail["sent"] for e in events] == [2, 0]
    assert expand_queued() == 2 and Email.objects.count() == 2


def test_a_run_the_worker_never_expanded_holds_nobody_back_after_seven_days(client):
    world = make_world()
    client.force_login(world.manager)
    client.post(_url(world))
    ReminderRun.objects.update(asked_at=timezone.now() - datetime.timedelta(days=8))
    plan = plan_reminders(scope=manager_scope(world.manager), policy=world.policy)
    assert len(plan.recipients) == 2 and plan.recently_reminded == 0


def test_a_reminder_that_rolls_back_queues_no_email():
    world = make_world()
    with pytest.raises(RuntimeError), __import__("django").db.transaction.atomic():
        remind(scope=manager_scope(world.manager), policy=world.policy, unit=None, by=world.manager)
        raise RuntimeError("the caller's transaction fails after the reminder")
    assert Email.objects.count() == 0 and Reminder.objects.count() == 0
    assert queued_email_ids() == []


def test_nobody_is_reminded_twice_within_seven_days(client):
    world = make_world()
    client.force_login(world.manager)
    client.post(_url(world))
    # A double submit, or a second click a minute later, while the first ones still wait.
    response = client.post(_url(world), follow=True)
    expand_queued()
    assert Email.objects.count() == 2
    assert Reminder.objects.count() == 2
    assert "Ingen påminnelser ble sendt" in response.content.decode()
    assert "2 hoppet over" in response.content.decode()
    send_queued()
    client.post(_url(world))
    assert len(mail.outbox) == 2 and Email.objects.count() == 2


def test_a_reminder_older_than_seven_days_does_not_stop_a_new_one():
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
    plan = remind(
        scope=manager_scope(world.manager), policy=world.policy, unit=None, by=world.manager
    )
    send_queued()
    assert plan.recipients == [world.carer.pk]
    assert plan.recently_reminded == 1
    assert [m.to for m in mail.outbox] == [[world.carer.email]]


def test_a_failed_reminder_does_not_count_for_the_throttle():
    world = make_world()
    scope = manager_scope(world.manager)
    remind(scope=scope, policy=world.policy, unit=None, by=world.manager)
    Email.objects.filter(to=world.carer.email).update(status=Email.Status.FAILED)
    plan = remind(scope=scope, policy=world.policy, unit=None, by=world.manager)
    assert plan.recipients == [world.carer.pk]
    assert plan.recently_reminded == 1


def test_a_policy_title_with_a_line_break_is_sent_on_one_subject_line():
    world = make_world()
    type(world.policy).objects.filter(pk=world.policy.pk).update(
        title="Bruk av\nsosiale medier\r\n"
    )
    world.policy.refresh_from_db()
    remind(scope=manager_scope(world.manager), policy=world.policy, unit=None, by=world.manager)
    assert send_queued() == []
    assert len(mail.outbox) == 2
    assert mail.outbox[0].subject == "Påminnelse: bekreft «Bruk av sosiale medier»"
    assert set(Email.objects.values_list("status", flat=True)) == {"sendt"}
    assert Event.objects.get(verb=EventVerb.REMINDED).detail["sent"] == 2


def test_an_email_that_cannot_be_built_is_marked_failed_and_the_others_are_sent():
    world = make_world()
    remind(scope=manager_scope(world.manager), policy=world.policy, unit=None, by=world.manager)
    # A template that no longer exists stands for any e-mail that cannot be composed.
    Email.objects.filter(to=world.carer.email).update(template="finnes/ikke.txt")
    assert send_queued() == []
    assert [m.to for m in mail.outbox] == [[world.manager.email]]
    failed = Email.objects.get(to=world.carer.email)
    assert failed.status == "feilet" and "finnes/ikke.txt" in failed.last_error


def test_the_person_list_shows_each_reminders_state(client):
    world = make_world()
    client.force_login(world.manager)
    client.post(_url(world))
    html = client.get(_list_url(world)).content.decode()
    assert html.count(">Venter</span>") == 2
    send_queued()
    Email.objects.filter(to=world.carer.email).update(status=Email.Status.FAILED)
    html = client.get(_list_url(world)).content.decode()
    assert html.count(">Sendt</span>") == 1 and html.count(">Feilet</span>") == 1
    states = reminder_states(policy=world.policy, person_ids=[world.carer.pk, world.nurse.pk])
    assert states[world.carer.pk].status == "feilet" and world.nurse.pk not in states


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
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(world.manager)
    assert strict.post(_url(world)).status_code == 403
    assert Reminder.objects.count() == 0 and Email.objects.count() == 0
    assert client.put(_url(world)).status_code in (302, 405)


def test_plan_counts_without_sending():
    world = make_world()
    plan = plan_reminders(scope=manager_scope(world.manager), policy=world.policy)
    assert len(plan.recipients) == 2 and plan.skipped == 0
    assert Email.objects.count() == 0 and Reminder.objects.count() == 0


def test_each_reminder_gives_the_persons_own_deadline(client):
    """A newcomer's deadline runs from the day they joined their unit, not from the version's
    date: each e-mail says the person's own deadline, as the manager's list does, never one
    deadline for everyone."""
    world = make_world()
    version = world.policy.versions.get(number=1)
    # The carer has been in the unit since before the version took effect.
    world.carer.unit_since = version.effective_from - datetime.timedelta(days=100)
    world.carer.save(update_fields=["unit_since"])
    newcomer = make_person(
        world.organisation,
        unit=world.nursing_home,
        first_name="Nils",
        unit_since=timezone.localdate() - datetime.timedelta(days=2),
    )
    client.force_login(world.manager)
    client.post(_url(world))
    expand_queued()
    send_queued()
    body = {message.to[0]: message.body for message in mail.outbox}
    days = datetime.timedelta(days=version.deadline_days)
    carer_due = version.effective_from + days
    newcomer_due = newcomer.unit_since + days
    assert carer_due != newcomer_due
    assert f"Din frist for å bekrefte: {carer_due:%d.%m.%Y}." in body[world.carer.email]
    assert f"Din frist for å bekrefte: {newcomer_due:%d.%m.%Y}." in body[newcomer.email]
    listed = client.get(_list_url(world)).content.decode()
    assert f"{newcomer_due:%d.%m.%Y}" in listed and f"{carer_due:%d.%m.%Y}" in listed


def test_a_reminder_says_when_the_persons_deadline_has_passed(client):
    world = make_world()
    late = make_person(
        world.organisation,
        unit=world.nursing_home,
        unit_since=timezone.localdate() - datetime.timedelta(days=400),
    )
    policy = make_policy(
        world.organisation,
        slug="gammel",
        effective_from=timezone.localdate() - datetime.timedelta(days=90),
    )
    client.force_login(world.manager)
    client.post(f"/oversikt/enhet/{world.health.pk}/retningslinje/{policy.slug}/paminnelse/")
    client.post(_url(world))  # the policy of the world, not overdue for the carer
    expand_queued()
    send_queued()
    overdue = [m.body for m in mail.outbox if m.to == [late.email] and "gammel" in m.body]
    in_time = [m.body for m in mail.outbox if m.to == [world.carer.email] and "sosiale" in m.body]
    assert "Fristen er gått ut, så bekreft så snart du kan." in overdue[0]
    assert "Fristen er gått ut" not in in_time[0]
