"""Håndboka behind PgBouncer in transaction-pooling mode.

`make test` runs this file and a part of the suite through `scripts/pgbouncer.sh`, which points
DATABASE_URL at a real PgBouncer (pool_mode = transaction) with DB_TRANSACTION_POOLING=true. A
server connection then belongs to us for one transaction only, so nothing may rely on session state:
no `SET` outside a transaction (only `SET LOCAL`), no server-side cursor outside a transaction.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
pooled = pytest.mark.skipif(
    not settings.DB_TRANSACTION_POOLING, reason="runs through PgBouncer (scripts/pgbouncer.sh)"
)

# `SET x = …` or `SET x TO …` at the start of a SQL string or after a `;`, but not `SET LOCAL` and
# not `SET CONSTRAINTS` (an UPDATE's `SET col = …` follows other words, so it does not match).
SESSION_SET = re.compile(r"""((?<!\\)["']|;)\s*SET\s+(?!LOCAL\b|CONSTRAINTS\b)\w+\s*(=|TO\b)""")


def test_no_session_level_set_in_the_code():
    offenders = []
    for path in ROOT.glob("*/**/*.py"):
        if ".venv" in path.parts or "node_modules" in path.parts or path.parts[-2] == "tests":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if SESSION_SET.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == [], "session-level SET breaks under PgBouncer:\n" + "\n".join(offenders)


@pooled
@pytest.mark.django_db
def test_the_suite_really_talks_to_postgresql_through_pgbouncer():
    # PgBouncer forwards to the cluster's own port: the server reports a port other than the one
    # Django connected to, which only happens when something sits in between.
    with connection.cursor() as cursor:
        cursor.execute("SELECT inet_server_port()")
        (server_port,) = cursor.fetchone()
    assert server_port != int(connection.settings_dict["PORT"])
    assert connection.settings_dict["DISABLE_SERVER_SIDE_CURSORS"] is True
