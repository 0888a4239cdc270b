"""Benchmark of the manager pages at municipal scale: `python -m bench.managers`.

Generates (once) a Bergen-sized organisation - 20 000 people in ~400 units on four levels, 40
policies with three versions each (some material, some editorial) and ~1.5 million
acknowledgements - plus a 2 000-person organisation, in a separate database
`handbook_bench_managers` on the server DATABASE_URL points at, using COPY. Then it reports, for both
sizes, p50/p95 latency and SQL query count of the organisation-wide overview and of the largest
unit's person list, and the time and peak memory of a CSV export of every row.

Around them, a national database: NATIONAL_ORGANISATIONS further kommuner of NATIONAL_PEOPLE people
each, with their own 40 policies and over 10 million confirmations in the same tables, generated
inside PostgreSQL (INSERT ... SELECT over generate_series), so Bergen's figures are measured with
other kommuner's rows in every index. Data is loaded with the summary triggers switched off and
the summaries (LatestAcknowledgement, ComplianceSummary) rebuilt once afterwards with
policies_rebuild_acknowledgement_summary(), the same function the migration uses.

The database is built once and reused between runs (about 10-20 minutes on two shared cores).

Options: --regenerate (drop and rebuild the data), --runs N (timed requests per page, default 30).
"""

from __future__ import annotations

import argparse
import datetime
import gc
import hashlib
import os
import random
import resource
import statistics
import sys
import time
import tracemalloc
from urllib.parse import urlparse, urlunparse

BENCH_DB = "handbook_bench_managers"
SIZES = {"bench-bergen": (20_000, 400), "bench-liten": (2_000, 60)}
POLICIES = 40
NATIONAL_ORGANISATIONS = 12
NATIONAL_PEOPLE = 10_000
NATIONAL_UNITS = 200
# The triggers that keep the summaries (policies/0010_compliance_summary) fire on every row the
# bulk load writes; they are off while it runs, and the summaries are rebuilt once at the end.
SUMMARY_TRIGGERS = [
    ("policies_acknowledgement", "acknowledgement_summarised"),
    ("people_person", "person_summarised_insert"),
    ("policies_policyversion", "version_recounted_insert"),
    ("policies_policy_audience_units", "audience_recounted_insert"),
]


def _bench_url(base: str) -> tuple[str, str]:
    parts = urlparse(base)
    admin = urlunparse(parts._replace(path="/postgres"))
    return admin, urlunparse(parts._replace(path=f"/{BENCH_DB}"))


def _ensure_database(admin_url: str, *, regenerate: bool) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB]).fetchone()
        if exists and regenerate:
            conn.execute(f'DROP DATABASE "{BENCH_DB}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
        # Clusters made by an older scripts/pg.sh carry 'pg_catalog.pg_catalog.norwegian', which
        # parallel workers refuse; set the right value on this database whatever the cluster says.
        conn.execute(
            f"ALTER DATABASE \"{BENCH_DB}\" SET default_text_search_config = 'pg_catalog.norwegian'"
        )


# --- Data generation ----------------------------------------------------------------------------


def _ids(cursor, sequence: str, count: int) -> list[int]:
    cursor.execute("SELECT nextval(%s) FROM generate_series(1, %s)", [sequence, count])
    return [row[0] for row in cursor.fetchall()]


def _generate(slug: str, people: int, units: int, rng: random.Random) -> None:
    from django.db import connection, transaction
    from django.utils import timezone

    from policies.models import Organisation

    started = time.perf_counter()
    today = timezone.localdate()
    now = timezone.now()
    with transaction.atomic():
        org = Organisation.objects.create(slug=slug, name=f"Benchmark {slug}")
        raw = connection.connection  # the psycopg connection, for COPY
        with connection.cursor() as cursor:
            # A four-level tree: a few sectors, departments, sections and teams.
            unit_ids = _ids(cursor, "people_unit_id_seq", units)
            level_sizes = [max(4, units // 50), units // 10, units // 3]
            level_sizes.append(units - sum(level_sizes))
            tree: list[tuple[int, int | None, str, str]] = []
            parents: list[tuple[int, str]] = [(None, "/")]
            position = 0
            for depth, size in enumerate(level_sizes, start=1):
                level = []
                for i in range(size):
                    parent_id, parent_path = parents[i % len(parents)]
                    unit_id = unit_ids[position]
                    position += 1
                    path = f"{parent_path}{unit_id}/"
                    tree.append((unit_id, parent_id, f"Enhet {depth}.{i + 1}", path))
                    level.append((unit_id, path))
                parents = level
            with raw.cursor().copy(
                "COPY people_unit (id, organisation_id, parent_id, name, path) FROM STDIN"
            ) as copy:
                for unit_id, parent_id, name, path in tree:
                    copy.write_row((unit_id, org.pk, parent_id, name, path))
            leaves = [u for u in tree if u[3].count("/") >= 4]
            sectors = [u for u in tree if u[1] is None]

            # People, mostly in the lower levels; a few elected officials and leavers.
            person_ids = _ids(cursor, "people_person_id_seq", people)
            unit_of: dict[int, int] = {}
            elected: set[int] = set()
            columns = (
                "id, password, is_superuser, username, first_name, last_name, email, is_staff, "
                "is_active, date_joined, organisation_id, unit_id, unit_since, employee_number, "
                "is_elected_official, is_editor, sees_whole_organisation, language"
            )
            first_names = ["Kari", "Ola", "Åse", "Bjørn", "Ingrid", "Per", "Sølvi", "Håkon"]
            last_names = ["Nordmann", "Hansen", "Ødegård", "Berg", "Johansen", "Lie", "Østby"]
            with raw.cursor().copy(f"COPY people_person ({columns}) FROM STDIN") as copy:
                for n, person_id in enumerate(person_ids):
                    unit = rng.choice(leaves if rng.random() < 0.85 else tree)
                    is_elected = n % 50 == 1
                    if is_elected:
                        elected.add(person_id)
                    unit_of[person_id] = unit[0]
                    joined = now - datetime.timedelta(days=rng.randint(1, 4000))
                    since = (
                        today - datetime.timedelta(days=rng.randint(1, 800))
                        if rng.random() < 0.7
                        else None
                    )
                    copy.write_row(
                        (
                            person_id,
                            "!",
                            False,
                            f"{slug}-{n}",
                            rng.choice(first_names),
                            rng.choice(last_names),
                            f"p{n}@{slug}.example.invalid",
                            False,
                            n % 100 != 7,  # about one in a hundred has left
                            joined,
                            org.pk,
                            unit[0],
                            since,
                            f"E{n:06d}",
                            is_elected,
                            False,
                            n == 0,  # person 0 is HR and sees the whole organisation
                            "",
                        )
                    )

            # Policies: most for all employees, some for a sector, some for elected officials.
            policy_ids = _ids(cursor, "policies_policy_id_seq", POLICIES)
            audience_units: dict[int, str] = {}
            with raw.cursor().copy(
                "COPY policies_policy (id, organisation_id, slug, title, summary, visibility, "
                "audience_all, audience_elected, review_interval_months, deadline_days, retired_at, "
                "created_at) "
                "FROM STDIN"
            ) as copy:
                for i, policy_id in enumerate(policy_ids):
                    for_sector = i % 10 == 3
                    if for_sector:
                        audience_units[policy_id] = rng.choice(sectors)
                    copy.write_row(
                        (
                            policy_id,
                            org.pk,
                            f"retningslinje-{i + 1}",
                            f"Retningslinje nummer {i + 1}",
                            "",
                            "internal",
                            not for_sector,
                            i % 10 == 5,
                            24,
                            30,
                            None,
                            now,
                        )
                    )
            with raw.cursor().copy(
                "COPY policies_policy_audience_units (policy_id, unit_id) FROM STDIN"
            ) as copy:
                for policy_id, unit in audience_units.items():
                    copy.write_row((policy_id, unit[0]))

            # Three versions each: v1 material, v2 and v3 material or editorial at random.
            version_ids = _ids(cursor, "policies_policyversion_id_seq", POLICIES * 3)
            versions: dict[int, list[tuple[int, int, str]]] = {}
            with raw.cursor().copy(
                "COPY policies_policyversion (id, policy_id, number, status, title, body, "
                "body_html, text_hash, change_kind, change_note, adopted_by, effective_from, "
                "deadline_days, published_at, created_at, updated_at, revision) FROM STDIN"
            ) as copy:
                for i, policy_id in enumerate(policy_ids):
                    for number in (1, 2, 3):
                        version_id = version_ids[i * 3 + number - 1]
                        kind = "material" if number == 1 or rng.random() < 0.5 else "editorial"
                        effective = today - datetime.timedelta(days=900 - number * 250)
                        text_hash = hashlib.sha256(f"{policy_id}-{number}".encode()).hexdigest()
                        versions.setdefault(policy_id, []).append((version_id, number, kind))
                        copy.write_row(
                            (
                                version_id,
                                policy_id,
                                number,
                                "published" if number == 3 else "superseded",
                                f"Retningslinje nummer {i + 1}",
                                "Tekst.",
                                "<p>Tekst.</p>",
                                text_hash,
                                kind,
                                "",
                                "",
                                effective,
                                30,
                                now - datetime.timedelta(days=900 - number * 250),
                                now,
                                now,
                                1,
                            )
                        )

            # Acknowledgements: most confirmed version 1, fewer the later ones (~1.5 million).
            path_of = {u[0]: u[3] for u in tree}
            count = 0
            with raw.cursor().copy(
                "COPY policies_acknowledgement (person_id, version_id, acknowledged_at, text_hash) "
                "FROM STDIN"
            ) as copy:
                for person_id in person_ids:
                    path = path_of[unit_of[person_id]]
                    for policy_id in policy_ids:
                        sector = audience_units.get(policy_id)
                        if sector is not None and not path.startswith(sector[3]):
                            continue
                        for version_id, number, _ in versions[policy_id]:
                            if rng.random() < (0.95, 0.8, 0.55)[number - 1]:
                                copy.write_row(
                                    (
                                        person_id,
                                        version_id,
                                        now - datetime.timedelta(days=rng.randint(1, 600)),
                                        "0" * 64,
                                    )
                                )
                                count += 1
    print(
        f"  generated {slug}: {people} people, {units} units, {POLICIES} policies, "
        f"{count} acknowledgements in {time.perf_counter() - started:.0f} s"
    )


def _generate_national(count: int) -> None:
    """Other kommuner with ~0.9 million confirmations each, generated by PostgreSQL itself."""
    from django.db import connection, transaction

    started = time.perf_counter()
    with connection.cursor() as cursor:
        for n in range(1, count + 1):
            slug = f"bench-nasjonal-{n}"
            cursor.execute("SELECT 1 FROM people_organisation WHERE slug = %s", [slug])
            if cursor.fetchone():
                continue  # built by an earlier, interrupted run (each kommune is one transaction)
            with transaction.atomic():
                cursor.execute(
                    "INSERT INTO people_organisation (slug, name, language) "
                    "VALUES (%s, %s, '') RETURNING id",
                    [slug, f"Benchmark nasjonal {n}"],
                )
                (org,) = cursor.fetchone()
                top = NATIONAL_UNITS // 10
                cursor.execute(
                    "INSERT INTO people_unit (organisation_id, parent_id, name, path) "
                    "SELECT %s, NULL, 'Sektor ' || g, '' FROM generate_series(1, %s) g",
                    [org, top],
                )
                cursor.execute(
                    "INSERT INTO people_unit (organisation_id, parent_id, name, path) "
                    "SELECT %s, u.id, 'Avdeling ' || g, '' FROM generate_series(1, %s) g "
                    "JOIN people_unit u ON u.organisation_id = %s AND u.name = 'Sektor ' || (g %% %s + 1)",
                    [org, NATIONAL_UNITS - top, org, top],
                )
                cursor.execute(
                    """
                    INSERT INTO people_person (password, is_superuser, username, first_name,
                           last_name, email, is_staff, is_active, date_joined, organisation_id,
                           unit_id, unit_since, employee_number, is_elected_official, is_editor,
                           sees_whole_organisation, language)
                    SELECT '!', false, %(slug)s || '-' || g, 'Kari', 'Nordmann ' || g,
                           'p' || g || '@' || %(slug)s || '.example.invalid', false, g %% 100 <> 7,
                           now() - (g %% 4000) * interval '1 day', %(org)s, u.id,
                           CASE WHEN g %% 10 < 7 THEN current_date - (g %% 800) END,
                           'E' || g, g %% 50 = 1, false, false, ''
                      FROM generate_series(1, %(people)s) g
                      JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k
                              FROM people_unit WHERE organisation_id = %(org)s) u
                        ON u.k = g %% %(units)s
                    """,
                    {"slug": slug, "org": org, "people": NATIONAL_PEOPLE, "units": NATIONAL_UNITS},
                )
                cursor.execute(
                    """
                    INSERT INTO policies_policy (organisation_id, slug, title, summary, visibility,
                           audience_all, audience_elected, review_interval_months, deadline_days,
                           created_at)
                    SELECT %s, 'retningslinje-' || g, 'Retningslinje nummer ' || g, '',
                           'internal', true, g %% 10 = 5, 24, 30, now()
                      FROM generate_series(1, %s) g
                    """,
                    [org, POLICIES],
                )
                cursor.execute(
                    """
                    INSERT INTO policies_policyversion (policy_id, number, status, title, body,
                           body_html, text_hash, change_kind, change_note, adopted_by,
                           effective_from, deadline_days, published_at, created_at, updated_at,
                           revision)
                    SELECT p.id, n, CASE WHEN n = 3 THEN 'published' ELSE 'superseded' END,
                           p.title, 'Tekst.', '<p>Tekst.</p>', md5(p.id || '-' || n) || md5(n::text),
                           CASE WHEN n = 1 OR (p.id + n) %% 2 = 0 THEN 'material' ELSE 'editorial' END,
                           '', '', current_date - (900 - n * 250), 30,
                           now() - (900 - n * 250) * interval '1 day', now(), now(), 1
                      FROM policies_policy p, generate_series(1, 3) n
                     WHERE p.organisation_id = %s
                    """,
                    [org],
                )
                cursor.execute(
                    """
                    INSERT INTO policies_acknowledgement (person_id, version_id, acknowledged_at,
                           text_hash)
                    SELECT pe.id, v.id, now() - (random() * 600) * interval '1 day', v.text_hash
                      FROM people_person pe
                      JOIN policies_policy p ON p.organisation_id = pe.organisation_id
                      JOIN policies_policyversion v ON v.policy_id = p.id
                     WHERE pe.organisation_id = %s
                       AND random() < (ARRAY[0.95, 0.8, 0.55])[v.number]
                    """,
                    [org],
                )
                print(f"  generated {slug}: {cursor.rowcount} acknowledgements", flush=True)
    print(f"  national kommuner in {time.perf_counter() - started:.0f} s", flush=True)


# --- Measuring ---------------------------------------------------------------------------------


def _timed(client, url: str, runs: int) -> tuple[float, float, int]:
    from django.db import connection

    for _ in range(2):
        client.get(url)  # warm caches and the connection
    # Counted with an execute wrapper: the test client's request_started signal resets
    # connection.queries, which would hide them from CaptureQueriesContext.
    queries = []
    with connection.execute_wrapper(
        lambda execute, sql, *rest: queries.append(sql) or execute(sql, *rest)
    ):
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    # The minimum is the best guide to the uncontended cost on a shared machine.
    return statistics.median(times), p95, len(queries), times[0]


def _export(client, url: str) -> tuple[float, int, float, int]:
    """Time, rows, tracemalloc peak (MiB) of consuming a streamed CSV export."""
    gc.collect()
    started = time.perf_counter()
    response = client.get(url)
    size = rows = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        rows += chunk.count(b"\n")
    elapsed = time.perf_counter() - started
    gc.collect()
    tracemalloc.start()
    response = client.get(url)
    for _chunk in response.streaming_content:
        pass
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return elapsed, rows - 1, peak / 2**20, size


def _measure(slug: str, runs: int) -> dict:
    from django.db.models import Count
    from django.test import Client

    from policies.models import Person, Policy, Unit

    hr = Person.objects.get(organisation__slug=slug, sees_whole_organisation=True)
    client = Client()
    client.force_login(hr)
    largest = (
        Unit.objects.filter(organisation=hr.organisation, parent=None)
        .annotate(n=Count("members"))
        .order_by("-n")
        .first()
    )
    # The largest sector's size, sub-units included.
    in_largest = Person.objects.filter(unit__path__startswith=largest.path, is_active=True).count()
    policy = Policy.objects.filter(organisation=hr.organisation, audience_all=True).first()
    results = {"people": Person.objects.filter(organisation=hr.organisation).count()}
    results["overview"] = _timed(client, "/oversikt/", runs)
    results["unit"] = _timed(client, f"/oversikt/enhet/{largest.pk}/", runs)
    results["list"] = _timed(
        client, f"/oversikt/enhet/{largest.pk}/retningslinje/{policy.slug}/", runs
    )
    results["list_missing_by_status"] = _timed(
        client,
        f"/oversikt/enhet/{largest.pk}/retningslinje/{policy.slug}/?mangler=1&sort=-status&side=3",
        runs,
    )
    results["largest_unit_people"] = in_largest
    results["export"] = _export(client, f"/oversikt/retningslinje/{policy.slug}/eksport.csv")
    results["xlsx"] = _export(client, f"/oversikt/retningslinje/{policy.slug}/eksport.xlsx")
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.managers")
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args(argv)

    base = os.environ.get("DATABASE_URL")
    if not base:
        sys.exit("Set DATABASE_URL to the test cluster (make bench does).")
    admin_url, bench_url = _bench_url(base)
    _ensure_database(admin_url, regenerate=args.regenerate)
    os.environ["DATABASE_URL"] = bench_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "handbook.settings")

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("migrate", verbosity=0)

    from django.db import connection

    from policies.models import Organisation

    rng = random.Random(20_000)  # noqa: S311 - reproducible data, not secrets
    missing = [slug for slug in SIZES if not Organisation.objects.filter(slug=slug).exists()]
    national = Organisation.objects.filter(slug__startswith="bench-nasjonal-").count()
    if missing or national < NATIONAL_ORGANISATIONS:
        # Bulk load: the per-row summary triggers off, the summaries rebuilt once at the end.
        with connection.cursor() as cursor:
            for table, trigger in SUMMARY_TRIGGERS:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
        try:
            for slug in missing:
                _generate(slug, *SIZES[slug], rng)
            if national < NATIONAL_ORGANISATIONS:
                _generate_national(NATIONAL_ORGANISATIONS)
            started = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute("SET work_mem = '256MB'")
                cursor.execute("SELECT policies_rebuild_acknowledgement_summary()")
                cursor.execute("RESET work_mem")
            print(f"  summaries rebuilt in {time.perf_counter() - started:.0f} s", flush=True)
        finally:
            with connection.cursor() as cursor:
                for table, trigger in SUMMARY_TRIGGERS:
                    cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FILTER (WHERE o.slug = 'bench-bergen'), "
            "count(*) FILTER (WHERE o.slug LIKE 'bench-nasjonal-%%'), count(*) "
            "FROM policies_acknowledgement a JOIN people_person pe ON pe.id = a.person_id "
            "JOIN people_organisation o ON o.id = pe.organisation_id"
        )
        bergen_acks, national_acks, all_acks = cursor.fetchone()
    print(
        f"Confirmations in the database: {all_acks:,} in all, {bergen_acks:,} of bench-bergen, "
        f"{national_acks:,} of {NATIONAL_ORGANISATIONS} other kommuner".replace(",", " ")
    )

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"Manager dashboards ({BENCH_DB}, {args.runs} timed requests per page; "
        f"load average before: {load} on {os.cpu_count()} CPUs)"
    )
    measured = {slug: _measure(slug, args.runs) for slug in SIZES}
    header = f"{'':38}" + "".join(f"{m['people']:>30,} people" for m in measured.values())
    print(header.replace(",", " "))
    for key, label in [
        ("overview", "org-wide overview /oversikt/"),
        ("unit", "largest sector /oversikt/enhet/<id>/"),
        ("list", "largest sector's person list"),
        ("list_missing_by_status", "  same, missing only, by status, p.3"),
    ]:
        cells = "".join(
            f"   min {m[key][3]:5.0f} p50 {m[key][0]:5.0f} p95 {m[key][1]:5.0f} ms q={m[key][2]:<2}"
            for m in measured.values()
        )
        print(f"{label:38}{cells}")
    print(
        f"{'  (people in that sector)':38}"
        + "".join(f"{m['largest_unit_people']:>29}" for m in measured.values())
    )
    cells = "".join(
        f"   {m['export'][1]:>6} rows {m['export'][0]:5.2f} s {m['export'][2]:5.1f} MiB"
        for m in measured.values()
    )
    print(f"{'CSV export, all rows (time, peak heap)':38}{cells}")
    cells = "".join(
        f"   {m['xlsx'][3] / 1024:>6.0f} KiB {m['xlsx'][0]:5.2f} s {m['xlsx'][2]:5.1f} MiB"
        for m in measured.values()
    )
    print(f"{'XLSX export, all rows (size, time, heap)':38}{cells}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"worker peak RSS over the whole run: {rss:.0f} MiB")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average after: {load}")


if __name__ == "__main__":
    main()
