"""Sign-in round trip through a kommune's provider: `python -m bench.signin [--runs N]`.

Chromium (Playwright) against Håndboka under gunicorn and a real oidc-provider-mock process, both on
free loopback ports, with a database of its own (`handbook_bench_signin` on the cluster
DATABASE_URL points at). A person from an HR import clicks "Logg inn med Bergen kommunes
pålogging", picks herself on the provider's page, and lands signed in on "Mine retningslinjer".

Printed: the time from the click on Håndboka's button to the provider's page, from the click on
the provider's page to Håndboka's signed-in page (token exchange, ID-token validation, matching,
the first page), and their sum, the round trip without the person's own pause on the provider's
page. The first sign-in after start-up (discovery document and keys not yet fetched) is shown
apart from the rest.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "handbook_bench_signin"
HR_FILE = """ansattnummer;fornavn;etternavn;epost;enhet;leder_for;folkevalgt
B4001;Nora;Nyansatt;nora@bergen.test;Helse;;nei
"""


def _database(base_url: str) -> str:
    import psycopg

    parts = urlparse(base_url)
    with psycopg.connect(urlunparse(parts._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
    return urlunparse(parts._replace(path=f"/{BENCH_DB}"))


def _setup(issuer: str) -> None:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from people.models import Organisation
    from policies.hr_import import import_people
    from signin.models import SignInConfig

    bergen = Organisation.objects.create(slug="bergen", name="Bergen kommune")
    import_people(organisation=bergen, text=HR_FILE)
    config = SignInConfig(
        organisation=bergen,
        issuer=issuer,
        client_id="handboka-bench",
        match_on="employee_number",
        match_claim="employee_number",
    )
    config.set_client_secret("bench")
    config.save()


def _wait(url: str, process: subprocess.Popen, what: str) -> None:
    import urllib.request

    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"{what} did not start") from None
            time.sleep(0.1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.signin")
    parser.add_argument(
        "--runs", type=int, default=20, help="sign-ins after the first (default 20)"
    )
    args = parser.parse_args(argv)
    base_url = os.environ.get("DATABASE_URL")
    if not base_url:
        print("DATABASE_URL is not set; run `make bench`.", file=sys.stderr)
        return 2

    from bench import Result, percentile, print_table
    from bench.server import free_port

    os.environ["DATABASE_URL"] = _database(base_url)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "handbook.settings")
    provider_port, site_port = free_port(), free_port()
    issuer = f"http://127.0.0.1:{provider_port}"
    mock = Path(sys.executable).with_name("oidc-provider-mock")
    user = '{"sub": "nora", "employee_number": "B4001", "name": "Nora Nyansatt"}'
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "AXES_ENABLED": "false", "DEBUG": "false"}
    processes = []
    with tempfile.TemporaryDirectory() as folder:
        try:
            provider = subprocess.Popen(  # noqa: S603 - fixed arguments
                [str(mock), "--port", str(provider_port), "--require-nonce", "true",
                 "--user-claims", user],
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            processes.append(provider)
            _wait(f"{issuer}/.well-known/openid-configuration", provider, "the provider")
            _setup(issuer)
            site = subprocess.Popen(  # noqa: S603 - fixed arguments
                [str(Path(sys.executable).with_name("gunicorn")), "handbook.wsgi",
                 "--bind", f"127.0.0.1:{site_port}", "--workers", "2", "--log-level", "warning",
                 "--control-socket", str(Path(folder) / "gunicorn.ctl")],
                cwd=ROOT, env=env,
            )  # fmt: skip
            processes.append(site)
            _wait(f"http://127.0.0.1:{site_port}/helse/", site, "gunicorn")
            first, rest = _measure(f"http://127.0.0.1:{site_port}", args.runs)
        finally:
            for process in processes:
                process.terminate()
                process.wait(timeout=15)

    to_provider = [r[0] for r in rest]
    back = [r[1] for r in rest]
    total = [a + b for a, b in rest]

    def ms(values: list[float]) -> str:
        return f"p50 {percentile(values, 50):.0f} ms, p95 {percentile(values, 95):.0f} ms"

    results = [
        Result("Klikk → leverandørens side", ms(to_provider)),
        Result("Klikk hos leverandøren → innlogget side", ms(back)),
        Result(f"Innlogging tur-retur ({len(rest)} ganger)", ms(total)),
        Result(
            "Første innlogging (henter discovery og nøkler)",
            f"{first[0] + first[1]:.0f} ms ({first[0]:.0f} + {first[1]:.0f})",
        ),
        Result(
            "Maskinlast (snitt siste minutt)",
            f"{os.getloadavg()[0]:.1f} på {os.cpu_count()} kjerner",
        ),
    ]
    print()
    print_table(results)
    return 0


def _measure(site: str, runs: int) -> tuple[tuple[float, float], list[tuple[float, float]]]:
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("HANDBOOK_CHROMIUM", "/usr/bin/chromium")
    flags = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-background-networking",
             "--disable-component-update", "--no-first-run", "--disable-gpu"]  # fmt: skip
    timings = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=flags)
        for _ in range(runs + 1):
            context = browser.new_context(base_url=site)
            page = context.new_page()
            page.goto("/logg-inn/")
            started = time.perf_counter()
            page.get_by_role("link", name="Logg inn med Bergen kommunes pålogging").click()
            page.get_by_role("button", name="nora").wait_for()
            at_provider = time.perf_counter()
            page.get_by_role("button", name="nora").click()
            page.wait_for_url(f"{site}/")
            page.get_by_role("navigation", name="Hovedmeny").get_by_text("Nora Nyansatt").wait_for()
            done = time.perf_counter()
            timings.append(((at_provider - started) * 1000, (done - at_provider) * 1000))
            context.close()
        browser.close()
    return timings[0], timings[1:]


if __name__ == "__main__":
    sys.exit(main())
