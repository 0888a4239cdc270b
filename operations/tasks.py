"""The data-lifecycle job on procrastinate's queue, run nightly by whichever worker is up.

Like the jobs in policies/tasks.py it is safe on several machines: procrastinate defers it once per
scheduled time however many workers run, the queueing lock keeps a second copy from piling up
behind a slow one, and `apply_retention` itself takes row locks and only touches people not yet
pseudonymised, so a second run changes nothing. Sessions and sign-in records are the nightly
clean-up job's (`policies.clean_up`), not this one's.
"""

from __future__ import annotations

from django.conf import settings
from procrastinate.contrib.django import app

from .retention import apply_retention


@app.periodic(cron=settings.JOBS_RETENTION_CRON, periodic_id="apply_retention")
@app.task(name="operations.apply_retention", queueing_lock="apply_retention")
def retention(timestamp: int) -> dict[str, list[int]]:
    """Pseudonymise the leavers past their kommune's retention; return their ids per kommune."""
    return apply_retention().pseudonymised
