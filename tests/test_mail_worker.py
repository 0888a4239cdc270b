"""The worker as a real process (`manage.py procrastinate worker`) killed with SIGKILL in the
middle of a 2 000-person reminder run, then started again: every reminder reaches the real SMTP
server (aiosmtpd), and none twice beyond what SMTP itself cannot prevent (see outbox.delivery)."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from outbox.models import Email
from people.models import Person
from policies.access import manager_scope
from policies.reminders import remind

from .manager_setup import make_world

ROOT = Path(__file__).resolve().parent.parent
PEOPLE = 2000


def wait_until(condition, what: str, seconds: float = 120) -> None:
    """Poll `condition`; the limit only keeps a broken run from hanging forever."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def start_worker(sink, log: Path) -> subprocess.Popen:
    db = connection.settings_dict
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DJANGO_SETTINGS_MODULE": "handbook.settings",
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(sink.port),
        # A dead worker is noticed after 2 s instead of a minute, checked every second.
        "JOBS_HEARTBEAT_SECONDS": "1",
        "JOBS_STALLED_SECONDS": "2",
        "JOBS_STALLED_CRON": "* * * * * *",
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "procrastinate", "worker"],
        cwd=ROOT,
        env=env,
        stdout=log.open("a"),
        stderr=subprocess.STDOUT,
    )


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_run_and_restarted_delivers_every_reminder_exactly_once(
    smtp_sink, tmp_path
):
    world = make_world()
    Person.objects.bulk_create(
        Person(
            username=f"massemottaker{n}",
            first_name="Mottaker",
            last_name=str(n),
            email=f"mottaker{n}@example.invalid",
            organisation=world.organisation,
            unit=world.ward,
            password="!",
        )
        for n in range(PEOPLE)
    )
    plan = remind(
        scope=manager_scope(world.manager), policy=world.policy, unit=None, by=world.manager
    )
    expected = len(plan.recipients)
    assert expected == PEOPLE + 2  # the carer and the manager too
    log = tmp_path / "worker.log"

    started = time.monotonic()
    worker = start_worker(smtp_sink, log)
    try:
        wait_until(lambda: smtp_sink.count() >= 1, "the first e-mail")
        first = time.monotonic()
        wait_until(lambda: smtp_sink.count() >= expected // 4, "the first quarter to be sent")
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
    at_kill = smtp_sink.count()
    killed = time.monotonic()
    assert at_kill < expected, "the run was over before the kill: nothing was proven"

    worker = start_worker(smtp_sink, log)
    try:
        wait_until(
            lambda: not Email.objects.waiting().exists(), "every e-mail to be sent", seconds=180
        )
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)

    per_message = collections.Counter(r.message_id for r in smtp_sink.received)
    emails = list(Email.objects.values_list("pk", "status"))
    assert len(emails) == expected and {status for _, status in emails} == {"sendt"}
    assert set(per_message) == {f"<handboka.{pk}@127.0.0.1>" for pk, _ in emails}
    duplicated = [message_id for message_id, n in per_message.items() if n > 1]
    # "Exactly once as far as SMTP allows": only an e-mail the server had accepted in the instant
    # before the kill, whose "sendt" had not yet been committed, can come twice, with the same
    # Message-ID so the receiving system can drop the copy: at most one per job then running.
    print(
        f"first after {first - started:.1f}s, killed after {at_kill} of {expected} at "
        f"{killed - started:.1f}s, all sent at {time.monotonic() - started:.1f}s; "
        f"duplicates: {len(duplicated)}"
    )
    assert len(duplicated) <= settings.PROCRASTINATE_WORKER_DEFAULTS["concurrency"], duplicated
    assert all(per_message[message_id] == 2 for message_id in duplicated), per_message
