"""The database backend (handbook.db): Django's, with a health check that asks the server only
when the connection has something to say. A connection the server dropped while it sat idle
between requests (a restart, a fail-over) must be replaced, not fail the next request."""

from __future__ import annotations

import select
import time

import psycopg
import pytest
from django.db import connection, connections

from tests.locks import eventually

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def persistent_connection():
    # As in production (DB_CONN_MAX_AGE, CONN_HEALTH_CHECKS): kept between requests, checked.
    connection.close()
    saved = dict(connection.settings_dict)
    connection.settings_dict.update(CONN_MAX_AGE=60, CONN_HEALTH_CHECKS=True)
    try:
        connection.ensure_connection()
        yield connection
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _between_requests() -> None:
    # What Django does when a request ends and the next begins (close_old_connections).
    connection.close_if_unusable_or_obsolete()


def test_the_backend_is_djangos_postgresql_with_its_health_check_on(persistent_connection):
    assert connection.vendor == "postgresql"
    assert type(connections["default"]).__module__ == "handbook.db.base"
    assert connection.health_check_enabled


def test_a_connection_the_server_dropped_while_idle_is_replaced_without_failing_the_request(
    persistent_connection,
):
    dropped = _backend_pid()
    _between_requests()
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [dropped])
    # The server says so on the socket; nothing has been read from it yet.
    fd = connection.connection.fileno()
    assert eventually(lambda: bool(select.select([fd], [], [], 0)[0]))

    # The next request's first query works, on a new connection.
    assert _backend_pid() != dropped


def test_a_quiet_connection_is_kept_across_requests(persistent_connection):
    first = _backend_pid()
    for _ in range(3):
        _between_requests()
        time.sleep(0.01)
        assert _backend_pid() == first
