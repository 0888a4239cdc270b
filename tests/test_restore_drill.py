"""The restore drill: back up, destroy, restore into a fresh cluster, and prove the evidence is back.

This is what docs/backup.md tells a kommune's IT department to do, run for real on every `make test`:

1. A cluster with WAL archiving (`archive_mode = on`, `archive_command` copying to an archive folder)
   gets the handbook and the demo people with their confirmations.
2. `pg_basebackup` takes a base backup. Afterwards more confirmations arrive (batch A: only in the
   WAL), the time is noted as the recovery target, then batch B arrives; the WAL is archived, and a
   `pg_dump -Fc` is taken (the small installation's backup, holding A and B).
3. The cluster is stopped and its data folder deleted.
4. Point-in-time recovery into a new folder: the base backup, `restore_command` from the archive and
   `recovery_target_time` = the noted time. Batch A must be there (replayed from the WAL), batch B not.
5. `pg_restore` of the dump into another fresh cluster: A and B are there.

"Back" means `manage.py evidence_checksum` (counts and SHA-256 over confirmations, events, published
versions and their sections) gives exactly what it gave on the original at that moment, and the
immutability triggers still refuse UPDATE and DELETE on the restored database.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict

import psycopg
import pytest

from operations.evidence import fingerprint_with
from tests.pgcluster import BINDIR, Cluster, manage, run_pg, scratch_dir

pytestmark = pytest.mark.django_db(databases=[])  # works on its own clusters only

# More evidence arriving: confirmations of current versions by people who have confirmed something
# before, and an audit event, written as plain SQL (this process's Django points elsewhere).
MORE_EVIDENCE = """
INSERT INTO policies_acknowledgement (person_id, version_id, acknowledged_at, text_hash, language)
SELECT person_id, version_id, now(), text_hash, language FROM (
    SELECT DISTINCT a.person_id, v.id AS version_id, v.text_hash, v.language
      FROM policies_acknowledgement a CROSS JOIN policies_policyversion v
     WHERE v.status = 'published'
       AND NOT EXISTS (SELECT 1 FROM policies_acknowledgement b
                        WHERE b.person_id = a.person_id AND b.version_id = v.id)
     ORDER BY 1, 2 LIMIT %(count)s) AS missing
"""
MORE_EVENTS = (
    "INSERT INTO policies_event (verb, detail, created_at) VALUES ('exported', '{}', now())"
)


def add_evidence(url: str, count: int) -> None:
    with psycopg.connect(url) as connection:
        connection.execute(MORE_EVIDENCE, {"count": count})
        connection.execute(MORE_EVENTS)


def checksum(url: str) -> list[dict]:
    """What `manage.py evidence_checksum --json` prints, computed in this process."""
    with psycopg.connect(url) as connection, connection.cursor() as cursor:
        return [asdict(t) for t in fingerprint_with(cursor)]


def rows(fingerprint: list[dict], name: str) -> int:
    return next(t["rows"] for t in fingerprint if t["name"] == name)


def assert_triggers_refuse_changes(cluster: Cluster) -> None:
    statements = [
        "UPDATE policies_acknowledgement SET text_hash = repeat('0', 64)",
        "DELETE FROM policies_acknowledgement",
        "UPDATE policies_event SET verb = 'published'",
        "DELETE FROM policies_event",
        "UPDATE policies_policyversion SET body = body || ' endret' WHERE status = 'published'",
        "DELETE FROM policies_policyversion WHERE status = 'published'",
    ]
    for sql in statements:
        result = run_pg(
            BINDIR / "psql", "-h", "127.0.0.1", "-p", cluster.port, "-U", "postgres",
            "-d", "handbook", "-v", "ON_ERROR_STOP=1", "-Atq", "-c", sql, check=False,
        )  # fmt: skip
        assert result.returncode != 0, f"the restored database accepted: {sql}"
        assert "cannot" in result.stderr.lower() or "protect" in result.stderr.lower(), (
            result.stderr
        )


@pytest.fixture(scope="module")
def drill():
    """Run steps 1–3 once; the tests below restore from what they leave behind."""
    work = scratch_dir("drill-")
    restored: list[Cluster] = []
    try:
        yield {**take_backups_and_destroy(work), "work": work, "restored": restored}
    finally:
        for cluster in restored:
            cluster.stop()
        shutil.rmtree(work, ignore_errors=True)


def take_backups_and_destroy(work) -> dict:
    archive = work / "wal-archive"
    base_backup = work / "base"
    dump = work / "handbook.dump"
    for folder in (archive, base_backup):
        run_pg("mkdir", folder)
    source = Cluster(work / "source").initdb(
        wal_level="replica",
        archive_mode="on",
        archive_command=f"test ! -f {archive}/%f && cp %p {archive}/%f",
    )
    source.start()
    try:
        source.psql("CREATE DATABASE handbook", dbname="postgres")
        url = source.url()
        manage("migrate", "--no-input", "-v", "0", database_url=url)
        manage("load_handbook", database_url=url)
        manage("seed_demo", database_url=url)

        # The documented base backup (docs/backup.md).
        run_pg(
            BINDIR / "pg_basebackup", "-h", "127.0.0.1", "-p", source.port, "-U", "postgres",
            "-D", base_backup, "--format=tar", "--gzip", "--wal-method=stream",
            "--checkpoint=fast",
        )  # fmt: skip
        at_backup = checksum(url)

        add_evidence(url, 7)
        at_target = checksum(url)
        # Commit timestamps after this instant belong to batch B.
        time.sleep(0.05)
        target_time = source.psql("SELECT now()")
        time.sleep(0.05)
        add_evidence(url, 5)
        at_end = checksum(url)

        # Close the current WAL segment and wait until the archiver has copied it.
        segment = source.psql("SELECT pg_walfile_name(pg_switch_wal())")
        for _ in range(300):
            if (archive / segment).exists():
                break
            time.sleep(0.1)
        else:
            raise AssertionError(f"WAL segment {segment} never reached the archive")

        run_pg(
            BINDIR / "pg_dump", "-h", "127.0.0.1", "-p", source.port, "-U", "postgres",
            "--format=custom", "--file", dump, "handbook",
        )  # fmt: skip
    finally:
        source.stop()
    # Destroy: the original cluster is gone for good.
    shutil.rmtree(source.datadir)
    assert not source.datadir.exists()

    return {
        "archive": archive,
        "base_backup": base_backup,
        "dump": dump,
        "target_time": target_time,
        "at_backup": at_backup,
        "at_target": at_target,
        "at_end": at_end,
    }


def test_the_demo_data_has_evidence_and_the_batches_changed_it(drill):
    assert rows(drill["at_backup"], "acknowledgements") > 50
    assert rows(drill["at_backup"], "events") > 0
    assert rows(drill["at_backup"], "published_versions") > 0
    assert rows(drill["at_backup"], "published_translations") > 0  # the nynorsk demo
    for before, after, added in (("at_backup", "at_target", 7), ("at_target", "at_end", 5)):
        assert (
            rows(drill[after], "acknowledgements")
            == rows(drill[before], "acknowledgements") + added
        )
        assert rows(drill[after], "events") == rows(drill[before], "events") + 1


def test_point_in_time_recovery_brings_back_exactly_the_evidence_at_the_target(drill):
    cluster = Cluster(drill["work"] / "pitr")
    drill["restored"].append(cluster)
    run_pg("mkdir", "-m", "700", cluster.datadir)
    run_pg("tar", "-xzf", drill["base_backup"] / "base.tar.gz", "-C", cluster.datadir)
    run_pg("tar", "-xzf", drill["base_backup"] / "pg_wal.tar.gz", "-C", cluster.datadir / "pg_wal")
    # The restored server must not archive into the original's archive, nor keep its settings' port.
    cluster.configure(
        archive_mode="off",
        restore_command=f"cp {drill['archive']}/%f %p",
        recovery_target_time=drill["target_time"],
        recovery_target_action="promote",
    )
    run_pg("touch", cluster.datadir / "recovery.signal")
    started = time.monotonic()
    cluster.start()
    for _ in range(300):
        if cluster.psql("SELECT pg_is_in_recovery()", dbname="postgres") == "f":
            break
        time.sleep(0.1)
    else:
        raise AssertionError("the restored cluster never finished recovery")
    # Figures for docs/backup.md (printed with `pytest -s`; no limit is asserted).
    size = sum(f.stat().st_size for f in drill["base_backup"].iterdir())
    segments = len([f for f in drill["archive"].iterdir() if len(f.name) == 24])
    print(
        f"\nrestore drill: base backup {size / 1e6:.1f} MB, {segments} WAL segments archived, "
        f"dump {drill['dump'].stat().st_size / 1e6:.1f} MB, "
        f"point-in-time recovery {time.monotonic() - started:.1f} s"
    )

    # As an operator would check it: the command, against the restored server.
    restored = json.loads(manage("evidence_checksum", "--json", database_url=cluster.url()))
    assert restored == drill["at_target"]
    assert restored != drill["at_end"]
    assert_triggers_refuse_changes(cluster)
    # The portal itself runs against it: no migration is missing.
    manage("migrate", "--check", database_url=cluster.url())


def test_pg_dump_restores_everything_into_a_fresh_cluster(drill):
    cluster = Cluster(drill["work"] / "from-dump").initdb()
    drill["restored"].append(cluster)
    cluster.start()
    cluster.psql("CREATE DATABASE handbook", dbname="postgres")
    run_pg(
        BINDIR / "pg_restore", "-h", "127.0.0.1", "-p", cluster.port, "-U", "postgres",
        "--dbname", "handbook", "--no-owner", "--exit-on-error", drill["dump"],
    )  # fmt: skip

    assert checksum(cluster.url()) == drill["at_end"]
    assert_triggers_refuse_changes(cluster)
