"""E-mail through the outbox: a reminder to 20 000 people queued (the manager's wait), the worker's
rate to a local SMTP server (aiosmtpd), and the weekly digest of a Bergen-sized kommune queued.

Works on its own kommune in the bench database ("bench-epost", BENCH_MAIL_PEOPLE people, default
20 000), created on the first run.
"""

from __future__ import annotations

import datetime
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.db import connection
from django.utils import timezone

from bench import Result, env_int
from outbox.models import Email
from people.models import Organisation, Person, Unit
from policies.access import manager_scope
from policies.models import DigestDelivery, Policy, Reminder
from policies.reminders import send_digests
from policies.workflow import create_draft, publish

ROOT = Path(__file__).resolve().parent.parent
PEOPLE = env_int("BENCH_MAIL_PEOPLE", 20_000)
SLUG = "bench-epost"


def _world() -> tuple[Organisation, Person, Policy]:
    organisation, created = Organisation.objects.get_or_create(
        slug=SLUG, defaults={"name": "Benchmark e-post kommune"}
    )
    if created or not Person.objects.filter(organisation=organisation).exists():
        top = Unit.objects.create(organisation=organisation, name="Hele kommunen")
        units = [
            Unit.objects.create(organisation=organisation, name=f"Enhet {n}", parent=top)
            for n in range(20)
        ]
        Person.objects.bulk_create(
            (
                Person(
                    username=f"epost{n}@{SLUG}",
                    first_name="Ansatt",
                    last_name=str(n),
                    email=f"epost{n}@example.invalid",
                    organisation=organisation,
                    unit=units[n % len(units)],
                    password="!",
                )
                for n in range(PEOPLE)
            ),
            batch_size=5000,
        )
        manager = Person.objects.create(
            username=f"leder@{SLUG}", organisation=organisation, unit=top, email="leder@x.invalid"
        )
        manager.managed_units.set([top])
        policy = Policy.objects.create(
            organisation=organisation, slug="sosiale-medier", title="Bruk av sosiale medier"
        )
        draft = create_draft(policy, by=None, body="## Formål\n\nVær saklig.\n")
        publish(
            draft,
            by=None,
            change_kind="material",
            change_note="Første versjon.",
            effective_from=timezone.localdate() - datetime.timedelta(days=60),
        )
        # As autovacuum would after such a load: the planner needs to know there are 20 000.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    # One in four chose nynorsk: reminders and digests are written in two languages at once
    # (people.language.person_language_sql).
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE people_person SET language = 'nn'"
            " WHERE organisation_id = %s AND id %% 4 = 0 AND language = ''",
            [organisation.pk],
        )
    manager = Person.objects.get(username=f"leder@{SLUG}")
    return organisation, manager, Policy.objects.get(organisation=organisation)


def _forget_mail(organisation: Organisation) -> None:
    """Start from an empty outbox (the bench database is ours alone)."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM policies_reminder")
        cursor.execute("DELETE FROM policies_reminderrun")
        cursor.execute("DELETE FROM policies_digestdelivery")
        cursor.execute("DELETE FROM outbox_email")
        cursor.execute("DELETE FROM procrastinate_jobs")


def _worker(sink_port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(sink_port),
    }
    return subprocess.Popen(  # noqa: S603 - fixed arguments
        [sys.executable, "manage.py", "procrastinate", "worker", "--queues", "email"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def run() -> list[Result]:
    from tests.smtp_sink import SmtpSink

    organisation, manager, policy = _world()
    _forget_mail(organisation)
    results = []

    from policies.models import ReminderRun
    from policies.reminders import expand_reminder_run, request_reminders

    # The manager's wait: the request writes the run, its audit event and one job.
    started = time.perf_counter()
    request = request_reminders(scope=manager_scope(manager), policy=policy, unit=None, by=manager)
    queued_in = time.perf_counter() - started
    queued = request.queued
    results.append(
        Result(
            f"Påminnelse til {queued} personer lagt i kø (lederens svar)",
            f"{queued_in:.2f} s",
            "< 1 s",
            queued_in < 1,
        )
    )
    # The worker's first step, timed here in this process: the run expanded into e-mails.
    started = time.perf_counter()
    expanded = expand_reminder_run(ReminderRun.objects.get().pk)
    expanded_in = time.perf_counter() - started
    results.append(
        Result(
            f"Arbeideren gjør køen om til {expanded} e-poster",
            f"{expanded_in:.2f} s",
            "(ingen grense)",
            expanded == queued,
        )
    )

    sink = SmtpSink()
    sink.start()
    worker = _worker(sink.port)
    try:
        deadline = time.monotonic() + 600
        while Email.objects.waiting().exists() and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
        sink.stop()
    sent = Email.objects.sent()
    nynorsk = sent.filter(subject__startswith="Påminning").count()
    print(f"   {nynorsk} of them in nynorsk", flush=True)
    first = sent.order_by("sent_at").values_list("sent_at", flat=True).first()
    last = sent.order_by("-sent_at").values_list("sent_at", flat=True).first()
    rate = sent.count() / max((last - first).total_seconds(), 0.001) if first else 0.0
    print(f"   sink received {sink.count()} of {queued}; {sent.count()} marked sent", flush=True)
    results.append(
        Result(
            "Worker → lokal SMTP-tjener (aiosmtpd)",
            f"{rate:.0f} e-poster/s",
            "≥ 200/s",
            rate >= 200,
        )
    )

    _forget_mail(organisation)
    Reminder.objects.all().delete()
    started = time.perf_counter()
    digest = send_digests(organisation=organisation, today=timezone.localdate(), dry_run=False)
    digest_in = time.perf_counter() - started
    results.append(
        Result(
            f"Ukesoversikt for {digest.people + digest.managers} mottakere lagt i kø",
            f"{digest_in:.1f} s",
            "< 10 s",
            digest_in < 10,
        )
    )
    assert DigestDelivery.objects.count() == digest.people + digest.managers
    _forget_mail(organisation)
    return results
