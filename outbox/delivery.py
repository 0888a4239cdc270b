"""Sending what the outbox holds: run by the worker (outbox.tasks), never in a web request.

Exactly once, as far as SMTP allows: each e-mail is locked, marked "sendt" and then handed to the
SMTP server inside one database transaction that commits right after the server accepted it. A
worker that dies before that commit leaves the row "venter" (and it is sent again later); only a
death in the instant between the server's "250 OK" and the commit can send it twice, and the
stable Message-ID lets the receiving mail system recognise that copy.
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone, translation

from .models import Email

logger = logging.getLogger(__name__)


class ServerUnavailable(Exception):
    """The SMTP server cannot be reached or is refusing for now: try the rest later."""


def deliver(ids: list[int]) -> list[int]:
    """Send those of `ids` that are still waiting; return the ids to try again later.

    An e-mail the server refuses for good (a 5xx answer, an unsendable header) becomes "feilet"
    at once; when the server is unreachable or answers 4xx, this one and the rest of the batch stay
    "venter" and are returned.
    """
    # One read for the whole batch; each e-mail is then claimed on its own, just before it goes.
    waiting = {
        email.pk: email for email in Email.objects.filter(pk__in=ids, status=Email.Status.WAITING)
    }
    todo = [pk for pk in ids if pk in waiting]
    connection = None
    try:
        for position, pk in enumerate(todo):
            try:
                message = compose(waiting[pk])
                message.message()  # builds the headers: refuses an unsendable one before we try
            except Exception as exc:  # noqa: BLE001 (any composing error is permanent for this row)
                _mark_failed(pk, exc)
                continue
            try:
                if connection is None:
                    connection = get_connection(fail_silently=False)
                    connection.open()
                _send_one(pk, message, connection)
            except ServerUnavailable as exc:
                logger.warning("E-mail %s not sent, will retry: %s", pk, exc.__cause__ or exc)
                _record_error(pk, exc.__cause__ or exc)
                return todo[position:]
            except (OSError, smtplib.SMTPException) as exc:
                # Could not even connect or say hello: the server is down.
                logger.warning("SMTP server unavailable, will retry: %s", exc)
                _record_error(pk, exc)
                return todo[position:]
    finally:
        if connection is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                connection.close()
    return []


def give_up(ids: list[int], reason: str) -> int:
    """Mark the still-waiting e-mails among `ids` as failed (no more retries)."""
    return Email.objects.filter(pk__in=ids, status=Email.Status.WAITING).update(
        status=Email.Status.FAILED, last_error=reason[:2000]
    )


def _send_one(pk: int, message: EmailMessage, connection) -> None:
    with transaction.atomic():
        # Claim it and mark it sent in one statement, and commit right after the server accepted
        # it: the window in which a crash can duplicate it is only the commit itself. If another
        # worker holds the row, this waits for it and then finds it no longer waiting.
        claimed = Email.objects.filter(pk=pk, status=Email.Status.WAITING).update(
            status=Email.Status.SENT,
            sent_at=timezone.now(),
            attempts=F("attempts") + 1,
            last_error="",
        )
        if not claimed:
            return
        refused: Exception | None = None
        try:
            connection.send_messages([message])
        except smtplib.SMTPRecipientsRefused as exc:
            if not all(code >= 500 for code, _ in exc.recipients.values()):
                raise ServerUnavailable(str(exc)) from exc
            refused = exc
        except smtplib.SMTPSenderRefused as exc:
            # Our own sender refused is the server's or our configuration's problem, not this
            # e-mail's: keep it and try again later.
            raise ServerUnavailable(str(exc)) from exc
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code < 500:
                raise ServerUnavailable(str(exc)) from exc
            refused = exc
        except (OSError, smtplib.SMTPException) as exc:
            raise ServerUnavailable(str(exc)) from exc
        if refused is not None:
            # Refused for good (5xx): undo the mark, and say why on the row.
            Email.objects.filter(pk=pk).update(
                status=Email.Status.FAILED, sent_at=None, last_error=_describe(refused)
            )


class _Composed(EmailMessage):
    """An EmailMessage whose MIME message is built once: `deliver` builds it to refuse an
    unsendable header before claiming the row, and the SMTP backend sends that same one. Building
    it (encoding the Norwegian subject into MIME words) was half of the worker's time per e-mail."""

    _built = None

    def message(self):
        if self._built is None:
            self._built = super().message()
        return self._built


def compose(email: Email) -> EmailMessage:
    """The EmailMessage for an outbox row, with a Message-ID that stays the same on every try.

    A template is rendered in the recipient's language, which the writer of the e-mail put in its
    context (outbox.mail.Message.language); the subject was written in it already."""
    if email.template:
        language = email.context.get("language") or settings.LANGUAGE_CODE
        with translation.override(language):
            body = render_to_string(email.template, email.context)
    else:
        body = email.body
    return _Composed(
        subject=email.subject,
        body=body,
        to=[email.to],
        headers={"Message-ID": f"<handboka.{email.pk}@{_domain()}>"},
    )


def _domain() -> str:
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def _mark_failed(pk: int, exc: Exception) -> None:
    Email.objects.filter(pk=pk).update(
        status=Email.Status.FAILED, attempts=F("attempts") + 1, last_error=_describe(exc)
    )


def _record_error(pk: int, exc: BaseException) -> None:
    # Only the e-mail that met the error counts an attempt; the rest of the batch was not tried.
    Email.objects.filter(pk=pk, status=Email.Status.WAITING).update(
        attempts=F("attempts") + 1, last_error=_describe(exc)
    )


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]
