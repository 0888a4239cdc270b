"""Search vectors on the handbook_nb configuration (compound splitting, see policies/textsearch.py).

A generated column cannot be altered: the vectors are dropped with their indexes and added again,
which computes them anew for every section under the new configuration.
"""

import django.contrib.postgres.indexes
import django.contrib.postgres.search
from django.db import migrations, models

from policies import textsearch


class Migration(migrations.Migration):
    dependencies = [
        ("policies", "0004_search_trgm"),
    ]

    operations = [
        # Hand-written: keep before any generated column that uses the configuration.
        migrations.RunSQL(textsearch.create_sql(), textsearch.drop_sql()),
        migrations.RemoveIndex(model_name="section", name="section_search_idx"),
        migrations.RemoveIndex(model_name="section", name="section_heading_search_idx"),
        migrations.RemoveField(model_name="section", name="search_vector"),
        migrations.RemoveField(model_name="section", name="heading_vector"),
        migrations.AddField(
            model_name="section",
            name="search_vector",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.contrib.postgres.search.CombinedSearchVector(
                    django.contrib.postgres.search.CombinedSearchVector(
                        django.contrib.postgres.search.SearchVector(
                            "title", config="handbook_nb", weight="A"
                        ),
                        "||",
                        django.contrib.postgres.search.SearchVector(
                            "heading", config="handbook_nb", weight="B"
                        ),
                        django.contrib.postgres.search.SearchConfig("handbook_nb"),
                    ),
                    "||",
                    django.contrib.postgres.search.SearchVector(
                        "text", config="handbook_nb", weight="C"
                    ),
                    django.contrib.postgres.search.SearchConfig("handbook_nb"),
                ),
                output_field=django.contrib.postgres.search.SearchVectorField(),
            ),
        ),
        migrations.AddField(
            model_name="section",
            name="heading_vector",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.contrib.postgres.search.SearchVector(
                    "heading", config="handbook_nb", weight="B"
                ),
                output_field=django.contrib.postgres.search.SearchVectorField(),
            ),
        ),
        migrations.AddIndex(
            model_name="section",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["search_vector"], name="section_search_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="section",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["heading_vector"], name="section_heading_search_idx"
            ),
        ),
    ]
