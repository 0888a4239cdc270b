"""The outbox end to end: procrastinate's real worker (in this process) sending to a real SMTP
server (aiosmtpd) that the tests take down and bring back. Nothing queued is ever lost."""

import time

import pytest
from django.db import transaction

from outbox.mail import enqueue_email, queue_status
from outbox.models import Email
from policies.access import manager_scope
from policies.models import ReminderRun
from policies.reminders import remind, reminder_states, request_reminders

from .jobs import queued_email_ids, run_worker
from .manager_setup import make_world


def _remind(world):
    return remind(
        scope=manager_scope(world.manager), policy=world.policy, unit=None, by=world.manager
    )


@pytest.fixture
def fast_retries(settings):
    # The production back-off is minutes; the same code path with one second between tries.
    settings.EMAIL_RETRY_WAIT = 1
    settings.EMAIL_RETRY_EXPONENTIAL = 0
    settings.EMAIL_MAX_ATTEMPTS = 5
    return settings


def _run_until(condition, *, seconds: float = 30) -> None:
    """Run the worker again and again (retries are scheduled a moment ahead) until `condition`."""
    deadline = time.monotonic() + seconds
    while True:
        run_worker()
        if condition():
            return
        if time.monotonic() > deadline:
            raise AssertionError("the worker did not get there")
        time.sleep(0.3)


@pytest.mark.django_db(transaction=True)
def test_the_worker_sends_each_queued_reminder_once_to_a_real_smtp_server(smtp_sink):
    world = make_world()
    _remind(world)
    run_worker()
    assert sorted(r.to[0] for r in smtp_sink.received) == sorted(
        [world.carer.email, world.manager.email]
    )
    carer = smtp_sink.to(world.carer.email)[0]
    assert "Hei Bjørn" in carer.body and carer.subject.startswith("Påminnelse")
    emails = list(Email.objects.order_by("pk"))
    assert [e.status for e in emails] == ["sendt", "sendt"]
    assert {r.message_id for r in smtp_sink.received} == {
        f"<handboka.{e.pk}@127.0.0.1>" for e in emails
    }
    # Running the worker again sends nothing more.
    run_worker()
    assert smtp_sink.count() == 2
    assert queued_email_ids() == []


@pytest.mark.django_db(transaction=True)
def test_the_managers_click_is_expanded_and_sent_by_the_worker_once(smtp_sink):
    world = make_world()
    request = request_reminders(
        scope=manager_scope(world.manager), policy=world.policy, unit=None, by=world.manager
    )
    assert request.queued == 2 and Email.objects.count() == 0
    states = reminder_states(policy=world.policy, person_ids=[world.carer.pk, world.manager.pk])
    assert {s.status for s in states.values()} == {"venter"} and len(states) == 2
    # The worker expands the run (its e-mails and their delivery jobs in its job's transaction)
    # and then sends them; running it again sends nothing more.
    run_worker()
    run_worker()
    assert sorted(r.to[0] for r in smtp_sink.received) == sorted(
        [world.carer.email, world.manager.email]
    )
    assert ReminderRun.objects.get().queued == 2
    assert set(Email.objects.values_list("status", flat=True)) == {"sendt"}
    states = reminder_states(policy=world.policy, person_ids=[world.carer.pk, world.manager.pk])
    assert {s.status for s in states.values()} == {"sendt"}


@pytest.mark.django_db(transaction=True)
def test_a_mail_server_that_is_down_delays_reminders_and_loses_none(smtp_sink, fast_retries):
    world = make_world()
    smtp_sink.stop()
    _remind(world)
    run_worker()
    # The server is down: nothing is sent, nothing is given up, the manager sees "venter".
    assert set(Email.objects.values_list("status", flat=True)) == {"venter"}
    assert "Connection refused" in Email.objects.order_by("pk").first().last_error
    states = reminder_states(policy=world.policy, person_ids=[world.carer.pk, world.manager.pk])
    assert {s.status for s in states.values()} == {"venter"}
    # A second click meanwhile queues nothing twice.
    assert _remind(world).recipients == []
    smtp_sink.start()
    _run_until(lambda: not Email.objects.waiting().exists())
    assert sorted(r.to[0] for r in smtp_sink.received) == sorted(
        [world.carer.email, world.manager.email]
    )
    assert set(Email.objects.values_list("status", flat=True)) == {"sendt"}


@pytest.mark.django_db(transaction=True)
def test_an_address_the_server_refuses_is_marked_failed_and_may_be_reminded_again(smtp_sink):
    world = make_world()
    smtp_sink.refuse.add(world.carer.email)
    _remind(world)
    run_worker()
    assert [r.to[0] for r in smtp_sink.received] == [world.manager.email]
    failed = Email.objects.get(to=world.carer.email)
    assert failed.status == "feilet" and "550" in failed.last_error and failed.sent_at is None
    states = reminder_states(policy=world.policy, person_ids=[world.carer.pk, world.manager.pk])
    assert states[world.carer.pk].label == "Feilet" and states[world.manager.pk].label == "Sendt"
    # The throttle counts only what was sent: the carer may be reminded again, the manager not.
    assert _remind(world).recipients == [world.carer.pk]


@pytest.mark.django_db(transaction=True)
def test_the_worker_gives_up_after_the_last_attempt_and_says_so(smtp_sink, fast_retries):
    fast_retries.EMAIL_MAX_ATTEMPTS = 2
    world = make_world()
    smtp_sink.stop()
    _remind(world)
    _run_until(lambda: not Email.objects.waiting().exists())
    assert set(Email.objects.values_list("status", flat=True)) == {"feilet"}
    assert "Ga opp etter 2 forsøk" in Email.objects.first().last_error
    assert queue_status().failed == 2 and queue_status().waiting == 0


@pytest.mark.django_db
def test_enqueue_email_with_a_key_stores_and_queues_it_once():
    with transaction.atomic():
        first = enqueue_email(
            to="ola@example.invalid",
            subject="Endret:\nRetningslinje",
            body="Tekst",
            kind="notice",
            key="notice:1:1",
        )
        again = enqueue_email(
            to="ola@example.invalid", subject="x", body="y", kind="notice", key="notice:1:1"
        )
    assert again == first and first.subject == "Endret: Retningslinje"
    assert Email.objects.count() == 1 and queued_email_ids() == [first.pk]
    assert enqueue_email(to="", subject="x", body="y", kind="notice") is None
    status = queue_status()
    assert status.waiting == 1 and status.failed == 0 and status.oldest_waiting_seconds >= 0
