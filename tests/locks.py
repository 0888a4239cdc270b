"""Helpers for tests that make two connections meet at a lock."""

from __future__ import annotations

import time

from django.db import connections


def sessions_waiting_on_locks() -> int:
    """How many sessions of this test database are waiting for a lock right now."""
    with connections["default"].temporary_connection() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND datname = current_database()"
        )
        return cursor.fetchone()[0]


def eventually(condition, seconds: float = 15) -> bool:
    """Whether `condition()` came true within `seconds` (asked every 20 ms)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False
