"""The hook between operations (health check, metrics) and the e-mail job queue.

The job queue is being built separately (issue 10). Until it is on main, `queue_status()` returns
None: /helse/ reports the queue as "ikke i bruk" and the metrics leave the queue figures out. When the
queue lands, this one function reads its depth and failures; nothing else here changes.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class QueueStatus:
    waiting: int  # jobs ready to run
    failed: int  # jobs (e-mails) that failed for good, all time


def queue_status() -> QueueStatus | None:
    """Depth and failures of the e-mail queue, or None when the portal has no queue (yet)."""
    return None
