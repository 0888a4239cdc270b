"""The hook between operations (health check, metrics) and the e-mail outbox (outbox.mail).

Kept as its own module so /helse/ and the metrics name one function, whatever queue sends the mail.
"""

from __future__ import annotations

from outbox.mail import QueueStatus, queue_status

__all__ = ["QueueStatus", "queue_status"]
