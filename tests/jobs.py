"""Running the outbox's delivery in tests: in this test's transaction, or with procrastinate's real
worker in this process (for tests that commit, `django_db(transaction=True)`)."""

from __future__ import annotations

from procrastinate.contrib.django.models import ProcrastinateJob

from outbox.delivery import deliver
from outbox.models import Email


def expand_queued() -> int:
    """Expand the reminder runs and change notices the worker has not expanded yet (the worker's
    own code, in this test's transaction); return how many e-mails they queued."""
    from policies.models import ReminderRun
    from policies.notices import queue_notices
    from policies.reminders import expand_reminder_run

    pending = (
        ReminderRun.objects.filter(expanded_at=None).order_by("pk").values_list("pk", flat=True)
    )
    queued = sum(expand_reminder_run(run_id) for run_id in list(pending))
    notices = ProcrastinateJob.objects.filter(task_name="policies.notify_change", status="todo")
    for job in notices.order_by("pk"):
        queued += queue_notices(job.args["version_id"])
        # As the worker would: the job is done and not run again.
        ProcrastinateJob.objects.filter(pk=job.pk).update(status="succeeded")
    return queued


def send_queued() -> list[int]:
    """Expand the waiting reminder runs, then send the waiting e-mails with the worker's own
    delivery code; return those left waiting."""
    expand_queued()
    return deliver(list(Email.objects.waiting().order_by("pk").values_list("pk", flat=True)))


def queued_email_ids() -> list[int]:
    """The e-mail ids that delivery jobs in procrastinate's queue are waiting to send."""
    ids: list[int] = []
    for args in ProcrastinateJob.objects.filter(
        task_name="outbox.deliver", status__in=["todo", "doing"]
    ).values_list("args", flat=True):
        ids.extend(args["ids"])
    return sorted(ids)


def run_worker() -> None:
    """Run procrastinate's worker in this process until no job is due, then return."""
    import threading

    from procrastinate.contrib.django import app

    failure: list[BaseException] = []

    def work() -> None:
        # As `manage.py procrastinate worker` does: the worker gets its own psycopg connections.
        try:
            with app.replace_connector(app.connector.get_worker_connector()):
                app.run_worker(
                    queues=["email"], wait=False, install_signal_handlers=False, listen_notify=False
                )
        except BaseException as exc:  # noqa: BLE001 (re-raised in the test's thread)
            failure.append(exc)

    # In a thread of its own: its event loop must not meet one the browser tests left running
    # in this thread (Playwright's sync API).
    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
