"""Throwaway PostgreSQL clusters for tests that need a whole server of their own (the restore drill).

Each cluster lives in a fresh folder under scripts/pg.sh's base folder (reachable by the `postgres`
user) and listens on a free port chosen at run time. As root, every PostgreSQL binary runs as
`postgres`, as in scripts/pg.sh.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .ports import free_port

ROOT = Path(__file__).resolve().parent.parent
PG_SH = str(ROOT / "scripts" / "pg.sh")
AS_ROOT = os.geteuid() == 0


def _pg_sh(command: str) -> str:
    return subprocess.run(
        [PG_SH, command], capture_output=True, text=True, check=True, timeout=600
    ).stdout.strip()


BINDIR = Path(_pg_sh("bindir"))


def run_pg(*args: str | Path, check: bool = True) -> subprocess.CompletedProcess:
    """Run a PostgreSQL binary (or any command) as the postgres user when we are root."""
    command = [str(a) for a in args]
    if AS_ROOT:
        command = ["runuser", "-u", "postgres", "--", *command]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def scratch_dir(prefix: str) -> Path:
    """A new empty folder the postgres user owns, under the project's cluster folder."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=_pg_sh("base")))
    if AS_ROOT:
        shutil.chown(path, "postgres", "postgres")
    return path


class Cluster:
    def __init__(self, datadir: Path, port: int | None = None):
        self.datadir = datadir
        self.port = port or free_port()
        self.log = datadir.parent / f"{datadir.name}.log"

    def url(self, dbname: str = "handbook") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{dbname}"

    def initdb(self, **settings: str) -> Cluster:
        run_pg(
            BINDIR / "initdb",
            "-D",
            self.datadir,
            "--username=postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--text-search-config=pg_catalog.norwegian",
            "--no-sync",
        )
        # Throwaway clusters trade durability for speed, as the test cluster does (full_page_writes
        # stays on: an online base backup needs it).
        self.configure(fsync="off", synchronous_commit="off", **settings)
        return self

    def configure(self, **settings: str) -> None:
        """Append settings to postgresql.auto.conf (the file ALTER SYSTEM writes)."""
        lines = "".join(f"{key} = '{value}'\n" for key, value in settings.items())
        conf = self.datadir / "postgresql.auto.conf"
        with conf.open("a") as out:
            out.write(lines)

    def start(self) -> Cluster:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.datadir.parent} "
            "-c default_text_search_config=pg_catalog.norwegian"
        )
        run_pg(
            BINDIR / "pg_ctl",
            "-D",
            self.datadir,
            "-l",
            self.log,
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )
        return self

    def stop(self) -> None:
        run_pg(BINDIR / "pg_ctl", "-D", self.datadir, "-m", "fast", "-w", "stop", check=False)

    def psql(self, sql: str, dbname: str = "handbook") -> str:
        return run_pg(
            BINDIR / "psql",
            "-h",
            "127.0.0.1",
            "-p",
            self.port,
            "-U",
            "postgres",
            "-d",
            dbname,
            "-v",
            "ON_ERROR_STOP=1",
            "-Atq",
            "-c",
            sql,
        ).stdout.strip()


def manage(*args: str, database_url: str) -> str:
    """Run `manage.py` against another database, as an operator would."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "handbook.settings",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout
