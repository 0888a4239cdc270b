"""Ports for the servers the tests start (gunicorn, nginx, SMTP sinks, providers, Redis, azurite,
scratch PostgreSQL clusters): chosen by the OS at run time, so parallel runs cannot clash."""

from __future__ import annotations

import os
import socket

# The fixed ports of the project's own services: scripts/pg.sh (dev, test and the failure
# cluster, test + 1), scripts/redis.sh, azurite and the local sign-in provider, by their defaults
# and as set for this run. One of them may be free at the moment a test asks for a port and
# wanted by its service a moment later; and on this machine a port a server has just closed
# stays unbindable for a minute (TIME_WAIT), long enough to fail that service's start.
_DEFAULTS = range(54320, 54340)
_NAMED = (
    "HANDBOOK_PG_PORT",
    "HANDBOOK_TEST_PG_PORT",
    "HANDBOOK_FAILURE_PG_PORT",
    "HANDBOOK_REDIS_PORT",
    "HANDBOOK_TEST_REDIS_PORT",
    "HANDBOOK_AZURITE_PORT",
    "HANDBOOK_OIDC_PORT",
)


def _reserved() -> set[int]:
    ports = set(_DEFAULTS) | {9401}
    for name in _NAMED:
        value = os.environ.get(name, "")
        if value.isdigit():
            ports.add(int(value))
    test_pg = os.environ.get("HANDBOOK_TEST_PG_PORT", "")
    if test_pg.isdigit():
        ports.add(int(test_pg) + 1)  # the failure cluster's default
    return ports


def free_port() -> int:
    """A loopback port that is free now and is none of the project's fixed ones."""
    reserved = _reserved()
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in reserved:
            return port
