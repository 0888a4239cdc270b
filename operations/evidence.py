"""A fingerprint of the evidence: counts and checksums of the append-only tables.

Run `manage.py evidence_checksum` before a backup and after a restore: equal output means every
confirmation, published version and translation, section and audit event came back unchanged.
The restore drill in `make test` (tests/test_restore_drill.py) compares exactly these figures.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Model

from policies.models import (
    Acknowledgement,
    Event,
    PolicyVersion,
    Section,
    Translation,
    TranslationSection,
)


@dataclass(frozen=True)
class TableFingerprint:
    name: str
    rows: int
    sha256: str


# What the legal evidence consists of: confirmations, the audit trail, and the exact texts that were
# published (drafts are work in progress and may change or vanish, so they are left out).
EVIDENCE: list[tuple[str, type[Model], str]] = [
    ("acknowledgements", Acknowledgement, ""),
    ("events", Event, ""),
    ("published_versions", PolicyVersion, "WHERE t.status <> 'draft'"),
    (
        "published_sections",
        Section,
        "WHERE t.version_id IN (SELECT id FROM policies_policyversion WHERE status <> 'draft')",
    ),
    # A confirmation may be of a published translation: its exact text is evidence too.
    ("published_translations", Translation, "WHERE t.status = 'published'"),
    (
        "published_translation_sections",
        TranslationSection,
        "WHERE t.translation_id IN (SELECT id FROM policies_translation WHERE status = 'published')",
    ),
]


def fingerprint() -> list[TableFingerprint]:
    """Row count and SHA-256 over every row's full text, in primary-key order, per evidence table."""
    with transaction.atomic(), connection.cursor() as cursor:
        return fingerprint_with(cursor)


def fingerprint_with(cursor) -> list[TableFingerprint]:
    """The same, on any DB-API cursor inside a transaction (the restore drill passes psycopg's)."""
    # A row's text includes its timestamps, whose text depends on the session's time zone: fix it
    # (SET LOCAL, so nothing is left on a pooled connection).
    cursor.execute("SET LOCAL timezone = 'UTC'")
    result = []
    for name, model, where in EVIDENCE:
        table = connection.ops.quote_name(model._meta.db_table)
        # Each row is hashed on the server first, so the aggregate stays 32 bytes a row. The table
        # names and conditions are fixed above; nothing here comes from input.
        aggregate = "coalesce(string_agg(md5(t::text), '' ORDER BY t.id), '')"
        sql = f"SELECT count(*), encode(sha256(convert_to({aggregate}, 'UTF8')), 'hex') FROM {table} t {where}"  # noqa: S608
        cursor.execute(sql)
        rows, digest = cursor.fetchone()
        result.append(TableFingerprint(name=name, rows=rows, sha256=digest))
    return result
