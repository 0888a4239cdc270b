"""Ports for the servers the tests start (gunicorn, nginx, SMTP sinks, providers, Redis, azurite,
scratch PostgreSQL clusters): chosen at run time, so parallel runs cannot clash.

They are taken below the kernel's range for outgoing connections (ip_local_port_range, 32768–60999
by default), as the project's fixed ports are: a port in that range may be the local end of any
process's connection at the moment a server wants it, and the server then cannot start. (CI met
it: the failure cluster's old port, 54322, was taken by a connection near the end of the suite.)
"""

from __future__ import annotations

import os
import random
import socket

# The fixed ports of the project's own services: scripts/pg.sh (dev, test and the failure
# cluster, test + 1), scripts/redis.sh, azurite and the local sign-in provider, by their defaults
# and as set for this run. One of them may be free at the moment a test asks for a port and
# wanted by its service a moment later; and on this machine a port a server has just closed
# stays unbindable for a minute (TIME_WAIT), long enough to fail that service's start.
_DEFAULTS = range(25320, 25340)
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
    """A loopback port that is free now, below the range of outgoing connections, and none of the
    project's fixed ones."""
    reserved = _reserved()
    low = _outgoing_range()[0]
    for _ in range(1000):
        port = random.randrange(20000, low)
        if port in reserved:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port below the range of outgoing connections")


def _outgoing_range() -> tuple[int, int]:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low, high = (int(value) for value in f.read().split())
    except (OSError, ValueError):
        return 32768, 60999
    return low, high
