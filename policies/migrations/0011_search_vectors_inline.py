"""Keep the search vectors in the table row instead of TOAST.

A section's vector (about 1.5 kB) does not compress, so with the default storage (EXTENDED)
PostgreSQL moved it out of line, and every `@@` and `ts_rank_cd` of a ranked row fetched it from
the TOAST table again: five fetches for a two-word question. MAIN keeps it in the row (the text
goes out of line instead). VACUUM FULL rewrites the rows already stored; it locks each table
while it runs (seconds for a handbook of a few thousand sections).
"""

from django.db import migrations

VECTORS = [
    ("policies_section", "search_vector"),
    ("policies_section", "heading_vector"),
    ("policies_translationsection", "search_vector"),
    ("policies_resourcesection", "search_vector"),
]
TABLES = sorted({table for table, _ in VECTORS})


class Migration(migrations.Migration):
    # VACUUM cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("policies", "0010_compliance_summary"),
    ]

    operations = [
        migrations.RunSQL(
            sql=[
                *(f"ALTER TABLE {t} ALTER COLUMN {c} SET STORAGE MAIN" for t, c in VECTORS),
                *(f"VACUUM FULL {t}" for t in TABLES),
            ],
            reverse_sql=[
                f"ALTER TABLE {t} ALTER COLUMN {c} SET STORAGE EXTENDED" for t, c in VECTORS
            ],
        ),
    ]
