"""The outbox: every e-mail the portal sends is first a row here, written in the transaction of
what caused it, and then sent by a worker (outbox.delivery) that records the outcome on the row."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone


class EmailQuerySet(models.QuerySet):
    def waiting(self) -> EmailQuerySet:
        return self.filter(status=Email.Status.WAITING)

    def failed(self) -> EmailQuerySet:
        return self.filter(status=Email.Status.FAILED)

    def sent(self) -> EmailQuerySet:
        return self.filter(status=Email.Status.SENT)


class Email(models.Model):
    """One e-mail to one address, and where it stands: venter, sendt or feilet."""

    class Status(models.TextChoices):
        WAITING = "venter", "Venter"
        SENT = "sendt", "Sendt"
        FAILED = "feilet", "Feilet"

    kind = models.CharField(
        max_length=30, help_text="What the e-mail is: reminder, digest, notice, …"
    )
    # An idempotency key chosen by the caller ("notice:<version>:<person>"): enqueueing the same
    # key twice stores one e-mail, so a retried or doubled caller never mails twice.
    key = models.CharField(max_length=200, null=True, blank=True)
    to = models.CharField("til", max_length=254)
    subject = models.CharField("emne", max_length=300)
    # Either the finished text, or a template and its context rendered by the worker: rendering
    # 20 000 reminders in the manager's request would take seconds, storing their context does not.
    body = models.TextField(blank=True)
    template = models.CharField(max_length=200, blank=True)
    context = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = EmailQuerySet.as_manager()

    class Meta:
        verbose_name = "e-post"
        verbose_name_plural = "e-poster"
        constraints = [
            # Unique where given: most e-mails (reminders, digests) have no key, and a reminder
            # to 20 000 people should not write 20 000 empty entries into this index.
            models.UniqueConstraint(
                fields=["key"], condition=Q(key__isnull=False), name="email_unique_key"
            )
        ]
        indexes = [
            # Queue depth and failures are read often (metrics, /helse/); sent rows are the bulk.
            models.Index(
                fields=["status", "created_at"],
                name="email_unsent_idx",
                condition=~Q(status="sendt"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_status_display()}: {self.subject} → {self.to}"
