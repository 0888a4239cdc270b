"""docs/deployment.md, followed by a test: a production installation built from the files the guide
tells people to copy, on loopback ports chosen at run time.

Step 2 runs docs/deploy/database.sql; step 3 reads docs/deploy/systemd/handbook.env.example as the
settings (only the machine-specific values changed: ports, host name, secret key) and runs the
guide's checks and collectstatic; step 4 runs PgBouncer with docs/deploy/pgbouncer.ini (transaction
pooling, SCRAM to the client); step 5 runs the ExecStart lines of handbook-migrate,
handbook-web@<port> (twice) and handbook-worker with their Environment lines (there is no systemd
here, and the units' `User=handbook` is the test's own user); step 6 puts nginx with
docs/deploy/nginx.conf in front, with TLS. Then step 7 as a kommune's IT does it: a break-glass
administrator, the kommune created in the admin, people from an HR file, the kommune's identity
provider (oidc-provider-mock standing in for Entra ID) configured in the admin, an editor signing in
through it and publishing, an employee confirming, a manager's reminder delivered by the worker.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
import requests

from .deploy import DEPLOY, ROOT, SYSTEMD, nginx_config, read_environment_file, read_unit
from .oidc_providers import Provider, approve, start_mock
from .ports import free_port
from .smtp_sink import SmtpSink
from .test_cluster import form_fields
from .test_failures import wait_until

pytestmark = pytest.mark.cluster

NAME = "handbook_deployed"  # the role and the database (the guide's "handbook")
PASSWORD = "proeve-passord-8d3f"
ADMIN_PASSWORD = "Pr0ve-admin-passord!"
METRICS_TOKEN = "another-long-random-string-only-prometheus-knows"
# The kommune's identity provider knows its editor (in the editors' group), an employee and a
# manager, by the same e-mail addresses as the HR file.
PEOPLE = [
    {"sub": "provik-rita", "email": "rita.redaktor@provik.example", "groups": ["g-kommunikasjon"]},
    {"sub": "provik-ase", "email": "ase.odegard@provik.example", "groups": []},
    {"sub": "provik-lars", "email": "lars.leder@provik.example", "groups": []},
]
HR_FILE = """ansattnummer;fornavn;etternavn;epost;enhet;leder_for;folkevalgt
P1001;Åse;Ødegård;ase.odegard@provik.example;Helse og omsorg / Hjemmetjenesten;;nei
P1002;Lars;Leder;lars.leder@provik.example;Helse og omsorg;Helse og omsorg;nei
P1003;Rita;Redaktør;rita.redaktor@provik.example;Kommunikasjon;;nei
"""


def _binary(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")
    if not found:
        pytest.fail(f"{name} is missing: `make test` installs it (scripts/ensure-cluster-tools.sh)")
    return found


@dataclass
class Installation:
    tmp: Path
    env: dict[str, str]
    url: str = ""
    cert: Path | None = None
    sink: SmtpSink | None = None
    provider: Provider | None = None
    shared: Path | None = None  # files the services that drop root must read
    app_ports: list[int] = field(default_factory=list)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self, name: str, command: list[str], *, cwd: Path = ROOT, **extra) -> None:
        log = (self.tmp / f"{name}.log").open("a")
        self.processes[name] = subprocess.Popen(
            command,
            cwd=cwd,
            env={**self.env, **extra},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start_unit(self, name: str, *, instance: str = "", label: str = "") -> None:
        unit = read_unit(name, instance=instance)
        self.start(
            label or name, unit.exec_start, cwd=unit.working_directory or ROOT, **unit.environment
        )

    def run_unit(self, name: str, *, paths: dict[str, str] | None = None) -> None:
        """A oneshot unit: run its ExecStart to the end (with its UMask) and check it succeeded."""
        unit = read_unit(name, paths=paths)
        umask = unit.umask
        result = subprocess.run(
            unit.exec_start,
            cwd=unit.working_directory or ROOT,
            env={**self.env, **unit.environment},
            capture_output=True,
            text=True,
            preexec_fn=(lambda: os.umask(umask)) if umask is not None else None,  # noqa: PLW1509
            check=False,
        )
        assert result.returncode == 0, f"{name}: {result.stdout}{result.stderr}"

    def manage(self, *args: str, **extra) -> str:
        """A command run by hand as the guide says: in the app folder, handbook.env loaded."""
        result = subprocess.run(
            [str(ROOT / ".venv" / "bin" / "python"), "manage.py", *args],
            cwd=ROOT,
            env={**self.env, **extra},
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, f"manage.py {' '.join(args)}: {result.stdout}{result.stderr}"
        return result.stdout

    def stop(self, name: str) -> None:
        process = self.processes.pop(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def browser(self) -> Browser:
        return Browser(self.url, self.cert)

    def log(self, name: str) -> str:
        return (self.tmp / f"{name}.log").read_text()


class Browser:
    """requests over HTTPS through nginx, trusting the test's certificate, with CSRF from forms."""

    def __init__(self, base: str, cert: Path):
        self.base, self.cert = base, str(cert)
        self.session = requests.Session()

    def get(self, path: str) -> requests.Response:
        url = path if path.startswith("http") else self.base + path
        return self.session.get(url, allow_redirects=False, verify=self.cert, timeout=30)

    def post(self, path: str, data: dict, *, form_page: str | None = None) -> requests.Response:
        page = self.get(form_page or path)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert token, f"no form on {form_page or path}: {page.status_code} {page.text[:300]}"
        return self.session.post(
            self.base + path,
            data={"csrfmiddlewaretoken": token.group(1), **data},
            headers={"Referer": self.base + (form_page or path)},
            allow_redirects=False,
            verify=self.cert,
            timeout=30,
        )

    def sign_in_with_provider(self, sub: str) -> None:
        """ "Logg inn med Prøvik kommunes pålogging", then the provider's page, then back."""
        start = self.get("/logg-inn/provik/")
        assert start.status_code == 302, start.text[:300]
        answer = self.get(approve(start.headers["Location"], sub))
        assert answer.status_code == 302, answer.text[:500]


@pytest.fixture(scope="module")
def installation(tmp_path_factory):
    base = os.environ.get("DATABASE_URL")
    if not base:
        pytest.skip("DATABASE_URL (the test PostgreSQL) is not set")
    server = base.rsplit("/", 1)[0]  # postgres://postgres@127.0.0.1:<port>
    pg_port = int(server.rsplit(":", 1)[1])
    tmp = tmp_path_factory.mktemp("deployment")
    # Readable by the services that drop root (PgBouncer as postgres, nginx's workers).
    shared = Path(tempfile.mkdtemp(prefix="handbook-deployment-"))
    shared.chmod(0o755)
    # Nothing from the test run's own environment: handbook.env (below) must be enough.
    bare = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8"}
    installation = Installation(tmp=tmp, env=bare, shared=shared)
    try:
        # Step 2: the role and the database, by docs/deploy/database.sql.
        with psycopg.connect(server + "/postgres", autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {NAME} WITH (FORCE)")
            connection.execute(f"DROP ROLE IF EXISTS {NAME}")
        with (DEPLOY / "database.sql").open() as script:
            subprocess.run(
                [_binary("psql"), server + "/postgres", "-q", "-v", f"role={NAME}",
                 "-v", f"database={NAME}", "-v", f"password={PASSWORD}"],
                stdin=script, check=True, capture_output=True,
            )  # fmt: skip

        # The services around: PgBouncer (step 4), Redis, SMTP, the kommune's identity provider.
        bouncer_port, redis_port = free_port(), free_port()
        ini = (DEPLOY / "pgbouncer.ini").read_text()
        ini, n1 = re.subn(
            r"handbook = host=db1\.kommune\.local port=5432 dbname=handbook",
            f"handbook = host=127.0.0.1 port={pg_port} dbname={NAME}",
            ini,
        )
        ini, n2 = re.subn(r"listen_port = 6432", f"listen_port = {bouncer_port}", ini)
        ini, n3 = re.subn(
            r"auth_file = /etc/pgbouncer/userlist.txt", f"auth_file = {shared}/userlist.txt", ini
        )
        assert (n1, n2, n3) == (1, 1, 1), "docs/deploy/pgbouncer.ini: a [your] line has moved"
        (shared / "pgbouncer.ini").write_text(ini + f"unix_socket_dir = {shared}\n")
        (shared / "userlist.txt").write_text(f'"{NAME}" "{PASSWORD}"\n')
        as_postgres = []
        if os.geteuid() == 0:
            shutil.chown(shared / "userlist.txt", "postgres")
            (shared / "userlist.txt").chmod(0o600)
            as_postgres = [_binary("runuser"), "-u", "postgres", "--"]
        installation.start(
            "pgbouncer", [*as_postgres, _binary("pgbouncer"), str(shared / "pgbouncer.ini")]
        )
        installation.start(
            "redis",
            [_binary("redis-server"), "--bind", "127.0.0.1", "--port", str(redis_port),
             "--save", "", "--appendonly", "no"],
        )  # fmt: skip
        installation.sink = SmtpSink()
        installation.sink.start()
        installation.provider = start_mock("Prøvik kommunes pålogging (oidc-provider-mock)", PEOPLE)

        # Step 3: handbook.env as the guide says to edit it: only the machine's own values.
        nginx_port = free_port()
        installation.url = f"https://127.0.0.1:{nginx_port}"
        settings = read_environment_file(SYSTEMD / "handbook.env.example")
        mine = {
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1",
            "CSRF_TRUSTED_ORIGINS": installation.url,
            "SITE_URL": installation.url,
            "DATABASE_URL": f"postgres://{NAME}:{PASSWORD}@127.0.0.1:{bouncer_port}/handbook",
            "DIRECT_DATABASE_URL": f"postgres://{NAME}:{PASSWORD}@127.0.0.1:{pg_port}/{NAME}",
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(installation.sink.port),
            "EMAIL_USE_TLS": "false",
            "MEDIA_ROOT": str(tmp / "media"),
            "METRICS_ALLOWED_NETWORKS": "127.0.0.1/32",
            "METRICS_TOKEN": METRICS_TOKEN,
        }
        assert set(mine) <= set(settings), (
            f"not in handbook.env.example: {set(mine) - set(settings)}"
        )
        assert settings["ENVIRONMENT"] == "production"
        installation.env = {
            **bare,
            **settings,
            **mine,
            "WEB_CONCURRENCY": "2",  # two gunicorn workers per app server on a test machine
        }
        installation.manage("check", "--deploy", "--fail-level", "WARNING")
        installation.manage("collectstatic", "--no-input", "-v", "0")
        installation.manage("compilemessages", "-v", "0", "--ignore=.venv", "--ignore=node_modules")
        assert "lokal disk" in installation.manage("ensure_storage")  # MEDIA_ROOT, no Azure

        # Step 5: the units, by their ExecStart lines.
        installation.run_unit("handbook-migrate.service")
        app_ports = [free_port(), free_port()]
        for port in app_ports:
            installation.start_unit(
                "handbook-web@.service", instance=str(port), label=f"web-{port}"
            )
        installation.start_unit("handbook-worker.service", label="worker")
        wait_until(lambda: _pgbouncer_answers(installation.env["DATABASE_URL"]), "PgBouncer", 150)

        # Step 6: nginx with TLS in front of both.
        config = nginx_config(
            shared, [f"http://127.0.0.1:{p}" for p in app_ports], nginx_port, tls=True
        )
        installation.cert = shared / "tls" / "fullchain.pem"
        installation.start("nginx", [_binary("nginx"), "-c", str(config), "-g", "daemon off;"])
        wait_until(lambda: _healthy(installation), "the installation behind nginx", 600)
        installation.app_ports = app_ports
        yield installation
    finally:
        for name in list(installation.processes):
            installation.stop(name)
        if installation.sink:
            installation.sink.stop()
        if installation.provider:
            installation.provider.stop()
        shutil.rmtree(shared, ignore_errors=True)


def _pgbouncer_answers(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=2) as connection:
            return connection.execute("SELECT 1").fetchone() == (1,)
    except psycopg.Error:
        return False


def _healthy(installation: Installation) -> bool:
    try:
        answer = installation.browser().get("/helse/")
    except requests.RequestException:
        return False
    return answer.status_code == 200


# --- the tests: in the order of the guide -----------------------------------------------------------


def test_step_6_the_installation_answers_healthy_over_https_only(installation):
    answer = installation.browser().get("/helse/")
    assert answer.json() == {"database": "ok", "cache": "ok", "queue": "ok"}
    # The request id nginx made is the one the app logged and sent back.
    request_id = answer.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    logs = installation.log(f"web-{installation.app_ports[0]}") + installation.log(
        f"web-{installation.app_ports[1]}"
    )
    assert f'"request_id": "{request_id}"' in logs
    wait_until(
        lambda: request_id in (installation.shared / "nginx-access.log").read_text(), "nginx"
    )
    assert "Strict-Transport-Security" in answer.headers
    # Metrics: only with the token (and only from the monitoring network, here loopback).
    browser = installation.browser()
    assert browser.get("/helse/metrikker/").status_code == 404
    browser.session.headers["Authorization"] = f"Bearer {METRICS_TOKEN}"
    metrics = browser.get("/helse/metrikker/")
    assert metrics.status_code == 200 and "handbook_acknowledgements_total" in metrics.text


def test_step_7_the_first_kommune_signs_in_publishes_and_confirms(installation):
    # 1. The break-glass administrator.
    installation.manage(
        "createsuperuser", "--no-input", "--username", "it.admin", "--email", "it@provik.example",
        DJANGO_SUPERUSER_PASSWORD=ADMIN_PASSWORD,
    )  # fmt: skip
    admin = installation.browser()
    signed_in = admin.post("/logg-inn/", {"username": "it.admin", "password": ADMIN_PASSWORD})
    assert signed_in.status_code == 302, signed_in.text[:500]
    assert {c.name for c in admin.session.cookies} >= {"__Host-sessionid", "__Host-csrftoken"}
    # 2. The kommune, in the admin.
    created = admin.post(
        "/admin/people/organisation/add/",
        {"name": "Prøvik kommune", "slug": "provik", "leaver_retention_months": "60",
         "language": "nb", "_save": "1"},
    )  # fmt: skip
    assert created.status_code == 302, created.text[:1000]
    # 3. Its people and units, from the HR file.
    hr_file = installation.tmp / "hr-eksport.csv"
    hr_file.write_text(HR_FILE, encoding="utf-8")
    report = installation.manage("import_people", str(hr_file), "--organisation", "provik")
    assert "3 nye" in report, report
    # 4. Its sign-in, in the admin: the provider, matched on e-mail, editors by group.
    page = admin.get("/admin/signin/signinconfig/add/").text
    organisation = re.search(r'<option value="(\d+)"[^>]*>Prøvik kommune</option>', page).group(1)
    configured = admin.post(
        "/admin/signin/signinconfig/add/",
        {"organisation": organisation, "enabled": "on", "issuer": installation.provider.issuer,
         "entra_tenant_id": "", "client_id": "handboka-provik",
         "new_client_secret": "klienthemmelighet", "client_secret_env": "",
         "scopes": "openid profile email", "match_on": "email", "match_claim": "email",
         "editor_groups": "g-kommunikasjon", "manager_groups": "",
         "support_contact": "it@provik.example", "end_provider_session": "on", "_save": "1"},
    )  # fmt: skip
    assert configured.status_code == 302, configured.text[:1000]

    # 5. The editor signs in through the kommune's provider, writes a policy and publishes it.
    editor = installation.browser()
    editor.sign_in_with_provider("provik-rita")
    new = form_fields(editor.get("/redaksjon/ny/").text, "")
    new.update(title="Bruk av sosiale medier", slug="sosiale-medier", summary="For alle ansatte.")
    answer = editor.post("/redaksjon/ny/", new)
    assert answer.status_code == 302, answer.text[:1000]
    base = "/redaksjon/provik/sosiale-medier/"
    draft = form_fields(editor.get(base + "utkast/").text, "")
    draft["body"] = (
        "## Formål\n\nAnsatte i Prøvik bruker sosiale medier med omtanke.\n\n"
        "## Taushetsplikt\n\nDu deler aldri det som er underlagt taushetsplikt.\n"
    )
    draft["neste"] = "publiser"
    answer = editor.post(base + "utkast/", draft)
    assert answer.status_code == 302, answer.text[:1000]
    publish = form_fields(editor.get(base + "publiser/").text, "")
    publish.update(change_kind="material", change_note="Første versjon.")
    answer = editor.post(base + "publiser/", publish)
    assert answer.status_code == 302 and answer.headers["Location"] == base, answer.text[:1000]

    # The employee signs in the same way, reads it and confirms.
    employee = installation.browser()
    employee.sign_in_with_provider("provik-ase")
    policy = employee.get("/provik/sosiale-medier/").text
    assert "Taushetsplikt" in policy
    form = {
        name: re.search(rf'name="{name}" value="([^"]+)"', policy).group(1)
        for name in ("versjon", "tekst")
    }
    confirmed = employee.post(
        "/provik/sosiale-medier/bekreft/", form, form_page="/provik/sosiale-medier/"
    )
    assert confirmed.status_code == 302, confirmed.text[:500]
    assert "Bekreftet" in employee.get("/meg/").text
    with psycopg.connect(installation.env["DIRECT_DATABASE_URL"]) as connection:
        stored = connection.execute(
            "SELECT p.email, v.number FROM policies_acknowledgement a "
            "JOIN people_person p ON p.id = a.person_id "
            "JOIN policies_policyversion v ON v.id = a.version_id"
        ).fetchall()
    assert stored == [("ase.odegard@provik.example", 1)]

    # The manager's reminder reaches the one who has not confirmed, sent by the worker.
    manager = installation.browser()
    manager.sign_in_with_provider("provik-lars")
    path = "/oversikt/retningslinje/sosiale-medier/"
    reminded = manager.post(path + "paminnelse/", {}, form_page=path)
    assert reminded.status_code == 302, reminded.text[:500]
    wait_until(lambda: installation.sink.to("lars.leder@provik.example"), "the reminder", 600)
    message = installation.sink.to("lars.leder@provik.example")[0].message
    assert installation.url + "/provik/sosiale-medier/" in message.get_payload(decode=True).decode()


def test_the_access_logs_keep_no_address_and_no_search_words(installation):
    browser = installation.browser()
    browser.get("/sok/?q=Kari+Nordmann+sykemelding")
    wait_until(lambda: _logged(installation), "the access lines")
    lines = _access_lines(installation)
    assert lines["nginx"] and lines["gunicorn"], lines
    for line in lines["nginx"] + lines["gunicorn"]:
        for personal in ("Kari", "Nordmann", "q=", "127.0.0.1"):
            assert personal not in line, line


def _access_lines(installation: Installation) -> dict[str, list[str]]:
    nginx_log = installation.shared / "nginx-access.log"
    nginx = nginx_log.read_text().splitlines() if nginx_log.exists() else []
    gunicorn = [
        line
        for port in installation.app_ports
        for line in installation.log(f"web-{port}").splitlines()
        if line.startswith("[") and '"GET /' in line
    ]
    return {
        "nginx": [line for line in nginx if "/sok/" in line],
        "gunicorn": [line for line in gunicorn if "/sok/" in line],
    }


def _logged(installation: Installation) -> bool:
    lines = _access_lines(installation)
    return bool(lines["nginx"] and lines["gunicorn"])


def test_the_nightly_backup_unit_writes_a_dump_only_its_owner_can_read(installation):
    backups = installation.tmp / "backups"
    backups.mkdir()
    installation.run_unit("handbook-backup.service", paths={"/var/backups/handbook": str(backups)})
    (dump,) = backups.glob("handbook-*.dump")
    assert dump.stat().st_mode & 0o077 == 0, oct(dump.stat().st_mode)
    listing = subprocess.run(
        [_binary("pg_restore"), "--list", str(dump)], capture_output=True, text=True, check=True
    ).stdout
    assert "policies_acknowledgement" in listing


def test_with_one_app_server_stopped_nginx_serves_from_the_other(installation):
    installation.stop(f"web-{installation.app_ports[0]}")
    browser = installation.browser()
    answers = [browser.get("/helse/").status_code for _ in range(6)]
    assert answers == [200] * 6
