"""The one way into the outbox: `enqueue_email` / `enqueue_emails`, and `queue_status` to read it.

Callers write e-mail as part of their own change: inside the caller's `transaction.atomic()` the
e-mail row and the job that will send it are written with everything else, so either the change
and its e-mail both happen or neither does, and a sent e-mail always has its cause in the database.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone
from procrastinate.contrib.django.django_connector import DjangoConnector
from procrastinate.manager import JobManager

from operations.logging import current_request_id

from .models import Email

# E-mails per job: one SMTP connection carries a batch, and a retry or a crash repeats at most one.
BATCH_SIZE = 100


@dataclass(frozen=True)
class Message:
    """An e-mail to enqueue. Give either `body` (finished text) or `template` + `context` (a
    JSON-serialisable dict), which the worker renders when it sends, in `language` (the
    recipient's, people.language.person_language; kept in the context as "language")."""

    to: str
    subject: str
    kind: str
    body: str = ""
    template: str = ""
    context: dict = field(default_factory=dict)
    key: str | None = None
    language: str = ""

    @property
    def stored_context(self) -> dict:
        return {**self.context, "language": self.language} if self.language else self.context


def header_safe(text: str) -> str:
    """A subject on one line: a line break in a title would make Django refuse the whole e-mail."""
    return " ".join(text.split())[:300]


def enqueue_email(
    *,
    to: str,
    subject: str,
    kind: str,
    body: str = "",
    template: str = "",
    context: dict | None = None,
    key: str | None = None,
) -> Email | None:
    """Queue one e-mail to `to`, to be sent by the worker after the caller's transaction commits.

    Call it inside the transaction of the change that causes the e-mail (`transaction.atomic()`):
    the e-mail row and its delivery job are written in that transaction, so a rolled-back change
    sends nothing and a committed one is sent even if this process dies the next moment. Outside
    a transaction it commits on its own.

    - `kind`: a short word for what it is ("notice", "reminder", "digest"), used in metrics.
    - `body`: the finished plain text; or `template` (a Django template name) and `context` (JSON
      values only), rendered by the worker when it sends.
    - `key`: an idempotency key, e.g. f"notice:{version.pk}:{person.pk}"; an e-mail with the same
      key is stored and sent only once, however often this is called.
    - The subject is put on one line (a line break would make the e-mail unsendable).

    Returns the queued Email (status "venter"), the existing one when `key` was already used, or
    None when `to` is empty. The worker retries with back-off; `Email.status` then says "sendt"
    or, when it gave up, "feilet" (with `last_error`).
    """
    message = Message(
        to=to,
        subject=subject,
        kind=kind,
        body=body,
        template=template,
        context=context or {},
        key=key,
    )
    if key is not None:
        existing = Email.objects.filter(key=key).first()
        if existing is not None:
            return existing
    try:
        emails = enqueue_emails([message])
    except IntegrityError:
        # Another transaction queued the same key at the same moment (its savepoint rolled back
        # here, the caller's transaction is intact): that one is the e-mail.
        return Email.objects.get(key=key)
    return emails[0] if emails else None


def enqueue_emails(messages: Iterable[Message]) -> list[Email]:
    """Queue many e-mails at once (one INSERT, one job per BATCH_SIZE); see `enqueue_email`.

    Messages without an address, or whose `key` is already in the outbox, are left out.
    Returns the queued rows in the order given.
    """
    messages = [m for m in messages if m.to]
    keys = [m.key for m in messages if m.key is not None]
    if keys:
        taken = set(Email.objects.filter(key__in=keys).values_list("key", flat=True))
        messages = [m for m in messages if m.key is None or m.key not in taken]
    if not messages:
        return []
    now = timezone.now()
    rows = [
        Email(
            kind=m.kind,
            key=m.key,
            to=m.to,
            subject=header_safe(m.subject),
            body=m.body,
            template=m.template,
            context=m.stored_context,
            created_at=now,
        )
        for m in messages
    ]
    # A savepoint inside the caller's transaction, or a transaction of its own: the rows and
    # their jobs are committed together or not at all.
    with transaction.atomic():
        Email.objects.bulk_create(rows, batch_size=5000)
        ids = [row.pk for row in rows]
        _defer_delivery(ids)
    return rows


def enqueue_each(recipients: QuerySet, *, kind: str, template: str) -> list[tuple[int, int]]:
    """Queue one e-mail per row of `recipients` with one INSERT … SELECT, in the caller's
    transaction, and their delivery jobs (one per BATCH_SIZE) in one more statement.

    For tens of thousands of e-mails at once (a reminder to a whole kommune, the weekly digest):
    nothing is built row by row in Python. `recipients` is a `.values()` QuerySet with the columns
    `recipient` (the caller's id for the row, e.g. the person's), `to`, `subject` (on one line:
    see `header_safe`) and `context` (a JSON object for `template`, which the worker renders in
    the language its "language" key names, as for `Message.language`).
    Rows with an empty address are left out. Returns (recipient, e-mail id) pairs.
    """
    sql, params = recipients.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        # The e-mail ids are drawn first, so that each can be returned with its recipient (an
        # INSERT … RETURNING only knows the columns it inserted).
        cursor.execute(
            f"""
            WITH recipient AS MATERIALIZED (
                SELECT nextval(pg_get_serial_sequence('outbox_email', 'id')) AS email_id, r.*
                FROM ({sql}) AS r
                WHERE r."to" <> ''
            ), queued AS (
                INSERT INTO outbox_email (id, kind, "to", subject, body, template, context,
                                          status, attempts, last_error, created_at)
                SELECT email_id, %s, "to", left(subject, 300), '', %s, context, %s, 0, '', %s
                FROM recipient
            )
            SELECT recipient, email_id FROM recipient ORDER BY email_id
            """,  # noqa: S608 - the inner query is Django's own, with its parameters
            [*params, kind, template, Email.Status.WAITING, timezone.now()],
        )
        pairs = cursor.fetchall()
        _defer_delivery([email_id for _, email_id in pairs])
    return pairs


def _defer_delivery(ids: list[int]) -> None:
    """One delivery job per BATCH_SIZE e-mails, in one statement, carrying the request id."""
    from .tasks import deliver_emails

    if not ids:
        return
    request_id = current_request_id()
    defer_in_transaction(
        deliver_emails,
        *(
            {"ids": ids[i : i + BATCH_SIZE], "request_id": request_id}
            for i in range(0, len(ids), BATCH_SIZE)
        ),
    )


def defer_in_transaction(task, *task_kwargs: dict) -> None:
    """Defer jobs of `task` through Django's own connection, so they are part of the caller's
    transaction (that is what makes this an outbox): committed with what caused them, or not at all.

    Also inside a worker's job, where procrastinate's app uses a connector of its own (a
    separate connection, outside the job's transaction) — hence not `task.batch_defer`.
    """
    deferrer = task.configure()
    jobs = [deferrer.make_new_job(**kwargs) for kwargs in task_kwargs]
    JobManager(DjangoConnector()).batch_defer_jobs(jobs=jobs)


@dataclass(frozen=True)
class QueueStatus:
    """How the outbox stands, for monitoring: e-mails waiting, failed, and the oldest waiting."""

    waiting: int
    failed: int
    oldest_waiting: datetime.datetime | None

    @property
    def oldest_waiting_seconds(self) -> float | None:
        if self.oldest_waiting is None:
            return None
        return (timezone.now() - self.oldest_waiting).total_seconds()


def queue_status() -> QueueStatus:
    """Queue depth and failures in one query (for metrics and /helse/)."""
    row = Email.objects.exclude(status=Email.Status.SENT).aggregate(
        waiting=Count("pk", filter=Q(status=Email.Status.WAITING)),
        failed=Count("pk", filter=Q(status=Email.Status.FAILED)),
        oldest=Min("created_at", filter=Q(status=Email.Status.WAITING)),
    )
    return QueueStatus(waiting=row["waiting"], failed=row["failed"], oldest_waiting=row["oldest"])
