"""Publishing a material change to a Bergen-sized audience: the editor's wait (the publish writes one
job) and the worker's (a ChangeNotice row and an e-mail per person who must confirm, one transaction).

Works on bench.mail's kommune ("bench-epost", 20 000 people who want notices at once).
"""

from __future__ import annotations

import time

from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench import Result
from bench.mail import _forget_mail, _world
from policies.models import ChangeKind, ChangeNotice
from policies.notices import queue_notices
from policies.workflow import create_draft, publish


def _forget_notices(organisation) -> None:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM policies_changenotice")
    _forget_mail(organisation)


def run() -> list[Result]:
    organisation, manager, policy = _world()
    _forget_notices(organisation)
    draft = create_draft(policy, by=None, body="## Formål\n\nVær saklig og vennlig.\n")
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        version = publish(
            draft, by=None, change_kind=ChangeKind.MATERIAL, change_note="Målt: nye regler."
        )
    published_in = time.perf_counter() - started
    started = time.perf_counter()
    queued = queue_notices(version.pk)
    queued_in = time.perf_counter() - started
    notices = ChangeNotice.objects.filter(version=version).count()
    _forget_notices(organisation)
    return [
        Result(
            "Vesentlig endring publisert til 20 000 (redaktørens svar)",
            f"{published_in:.2f} s, {len(queries)} spørringer",
            "< 1 s",
            published_in < 1,
        ),
        Result(
            f"Arbeideren skriver {notices} endringsvarsler og e-poster",
            f"{queued_in:.1f} s",
            "(ingen grense)",
            notices == queued > 0,
        ),
    ]
