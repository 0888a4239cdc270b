"""Django's PostgreSQL backend, with a cheaper health check for persistent connections.

With CONN_HEALTH_CHECKS Django sends `SELECT 1` before the first query of every request, so
that a connection the server dropped while it sat idle (a restart, a fail-over to the standby)
is replaced instead of failing that request. On the signed-in policy page that round trip was
one of three to PostgreSQL. A server that drops a connection tells the client (a FATAL message,
then the socket's end), so an idle connection with nothing to read is alive as far as a
`SELECT 1` could tell; only when something is waiting does this ask the server as Django does.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    def close_if_health_check_failed(self):
        if (
            self.connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and not self.pool
            and self._idle_and_quiet()
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()

    def _idle_and_quiet(self) -> bool:
        """Nothing from the server is waiting on an idle, unbroken connection."""
        connection = self.connection
        if connection.broken or connection.info.transaction_status != pq.TransactionStatus.IDLE:
            return False
        try:
            # poll(), not select(): a process with many files open may have this one above 1023.
            poller = select.poll()
            poller.register(connection.fileno(), select.POLLIN)
            events = poller.poll(0)
        except (OSError, ValueError):
            return False
        # Anything at all (data, the server's end, an error) is for SELECT 1 to make sense of.
        return not events
