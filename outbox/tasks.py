"""The outbox's jobs on procrastinate's queue (a PostgreSQL table; see README, "Background work").

`manage.py procrastinate worker` runs them; `make run` starts one beside gunicorn.
"""

from __future__ import annotations

import logging

from django.conf import settings
from procrastinate import BaseRetryStrategy, JobContext, RetryStrategy
from procrastinate.contrib.django import app
from procrastinate.jobs import Job
from procrastinate.retry import RetryDecision

from operations.logging import bind_request_id

from .delivery import deliver, give_up

logger = logging.getLogger(__name__)


class EmailsPending(Exception):
    """Some e-mails of the batch could not be sent yet; procrastinate retries the job later."""


class EmailRetry(BaseRetryStrategy):
    """procrastinate's exponential back-off, read from the settings when a job fails (so a test
    or an operator can shorten it without a restart of the code that defined the task)."""

    def get_retry_decision(self, *, exception: BaseException, job: Job) -> RetryDecision | None:
        strategy = RetryStrategy(
            max_attempts=settings.EMAIL_MAX_ATTEMPTS,
            wait=settings.EMAIL_RETRY_WAIT,
            exponential_wait=settings.EMAIL_RETRY_EXPONENTIAL,
            retry_exceptions={EmailsPending},
        )
        return strategy.get_retry_decision(exception=exception, job=job)


@app.task(name="outbox.deliver", queue="email", pass_context=True, retry=EmailRetry())
def deliver_emails(context: JobContext, ids: list[int], request_id: str = "") -> None:
    """Send a batch of outbox e-mails; retried with back-off while the SMTP server is unavailable,
    and on the last attempt the ones still not sent are marked "feilet".

    Logs under the id of the request that queued the batch (operations.logging), so one id
    follows a manager's reminder from the click to the e-mails it caused."""
    with bind_request_id(request_id):
        pending = deliver(ids)
        logger.info(
            "E-mail batch of job %s: %d sent or settled, %d waiting",
            context.job.id,
            len(ids) - len(pending),
            len(pending),
        )
        if not pending:
            return
        attempt = context.job.attempts + 1  # attempts already made before this one, plus this one
        if attempt >= settings.EMAIL_MAX_ATTEMPTS:
            give_up(pending, f"Ga opp etter {attempt} forsøk: e-posttjeneren svarte ikke.")
            return
        raise EmailsPending(f"{len(pending)} e-poster venter på e-posttjeneren")


@app.periodic(cron=settings.JOBS_STALLED_CRON, periodic_id="retry_stalled_jobs")
@app.task(name="outbox.retry_stalled_jobs", queue="email", queueing_lock="retry_stalled_jobs")
async def retry_stalled_jobs(timestamp: int) -> None:
    """Give the jobs of a worker that died (SIGKILL, power loss) to a living worker.

    A worker sends a heartbeat every few seconds; jobs still "doing" under a worker whose
    heartbeat stopped are put back in the queue. Their e-mails that were committed as sent are
    skipped when the job runs again.
    """
    stalled = await app.job_manager.get_stalled_jobs(
        seconds_since_heartbeat=settings.JOBS_STALLED_SECONDS
    )
    for job in stalled:
        await app.job_manager.retry_job(job)
