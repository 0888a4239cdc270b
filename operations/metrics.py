"""The product's own figures for Prometheus, read from the database at scrape time.

Reading them from PostgreSQL (not counting in memory) gives the same answer from every app server
and every gunicorn worker, so no multiprocess bookkeeping is needed and a restart loses nothing.
Every figure is a count; no label carries a person. Per-request latency and status counts come from
nginx (docs/deployment.md), which sees all app servers at once.

Useful queries: confirmations per hour `increase(handbook_acknowledgements_total[1h])`, sign-in
failures `handbook_sign_in_failures_last_hour`, e-mail backlog `handbook_email_queue_waiting`.
"""

from __future__ import annotations

import datetime

from axes.models import AccessFailureLog
from django.utils import timezone
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from people.models import Organisation, Person
from policies.models import Acknowledgement, Event

from .queue import queue_status


class HandbookCollector:
    def collect(self):
        yield CounterMetricFamily(
            "handbook_acknowledgements",
            "Confirmations recorded (append-only; rate() gives confirmations per hour).",
            value=Acknowledgement.objects.count(),
        )
        yield CounterMetricFamily(
            "handbook_events", "Audit events recorded.", value=Event.objects.count()
        )
        since = timezone.now() - datetime.timedelta(hours=1)
        yield GaugeMetricFamily(
            "handbook_sign_in_failures_last_hour",
            "Failed sign-ins in the last hour (django-axes' failure log).",
            value=AccessFailureLog.objects.filter(attempt_time__gte=since).count(),
        )
        yield GaugeMetricFamily(
            "handbook_people_active", "Active people.", value=Person.objects.active().count()
        )
        yield GaugeMetricFamily(
            "handbook_organisations", "Organisations.", value=Organisation.objects.count()
        )
        status = queue_status()
        if status is not None:
            yield GaugeMetricFamily(
                "handbook_email_queue_waiting", "E-mail jobs waiting.", value=status.waiting
            )
            yield CounterMetricFamily(
                "handbook_emails_failed", "E-mails that failed for good.", value=status.failed
            )


def render() -> bytes:
    """The Prometheus text format, freshly collected."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(HandbookCollector())
    return generate_latest(registry)
