"""Real OpenID Connect provider processes for the sign-in tests, each on a free port.

Two oidc-provider-mock processes play two kommuner (Bergen and Moskenes: two issuers, two keys);
two tests.hostile_provider processes misbehave on purpose. Nothing of Håndboka is mocked: it talks
HTTP to these processes exactly as it would to Entra ID.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import requests

from .ports import free_port

ROOT = Path(__file__).resolve().parent.parent
MOCK = Path(sys.executable).parent / "oidc-provider-mock"

# The people Bergen's and Moskenes' providers know. Any other `sub` typed on the provider's page
# gets the claims {"sub": <sub>, "email": <sub>}, which the tests use to sign in by e-mail.
BERGEN_USERS = [
    {"sub": "bergen-b4001", "employee_number": "B4001", "email": "nora@bergen.test"},
    {"sub": "bergen-editor", "email": "gruppe@bergen.test", "groups": ["g-kommunikasjon", "g-hr"]},
    {"sub": "bergen-no-groups", "email": "gruppe@bergen.test", "groups": []},
    {"sub": "bergen-no-number", "email": "uten@bergen.test"},
]
# The same subject, e-mail and employee number as a Bergen person: must never sign into Bergen.
MOSKENES_USERS = [
    {"sub": "bergen-b4001", "employee_number": "B4001", "email": "nora@bergen.test"},
]


def _wait_for(url: str, process: subprocess.Popen, name: str) -> None:
    # Generous: on a machine busy with other test runs, importing Flask and Authlib takes a while.
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{name} did not answer at {url}")


@dataclass
class Provider:
    name: str
    process: subprocess.Popen
    port: int

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_mock(name: str, users: list[dict]) -> Provider:
    """oidc-provider-mock on a free port (retried: another process may take the port first)."""
    last_error = None
    for _ in range(5):
        port = free_port()
        args = [str(MOCK), "--host", "127.0.0.1", "--port", str(port), "--require-nonce", "true"]
        for user in users:
            args += ["--user-claims", json.dumps(user)]
        env = {**os.environ, "PYTHONWARNINGS": "ignore"}
        process = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
        )
        try:
            _wait_for(f"http://127.0.0.1:{port}/.well-known/openid-configuration", process, name)
            return Provider(name, process, port)
        except RuntimeError as error:
            last_error = error
            process.kill()
            process.wait()
    raise RuntimeError(f"could not start {name}: {last_error}")


def start_hostile(name: str, key_file: Path, other_key_file: Path) -> HostileProvider:
    last_error = None
    for _ in range(5):
        port = free_port()
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.hostile_provider",
                "--port",
                str(port),
                "--key",
                str(key_file),
                "--other-key",
                str(other_key_file),
                "--closed-port",
                str(free_port()),
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_for(f"http://127.0.0.1:{port}/jwks", process, name)
            return HostileProvider(name, process, port)
        except RuntimeError as error:
            last_error = error
            process.kill()
            process.wait()
    raise RuntimeError(f"could not start {name}: {last_error}")


class HostileProvider(Provider):
    def set_mode(self, mode: str, claims: dict | None = None) -> None:
        response = requests.post(
            f"{self.issuer}/_mode",
            json={"mode": mode, "claims": claims or {"sub": "hostile-subject"}},
            timeout=5,
        )
        response.raise_for_status()


def approve(authorize_url: str, sub: str) -> str:
    """Sign in at oidc-provider-mock's page as `sub`: the callback address it sends the browser to."""
    response = requests.post(authorize_url, data={"sub": sub}, allow_redirects=False, timeout=10)
    assert response.status_code == 302, response.text[:500]
    return response.headers["Location"]


def path_and_query(url: str) -> str:
    parsed = urlparse(url)
    return f"{parsed.path}?{parsed.query}"


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}


def set_user(provider: Provider, sub: str, claims: dict) -> None:
    """Give `sub` these claims at an oidc-provider-mock (its PUT /users/<sub>)."""
    response = requests.put(f"{provider.issuer}/users/{sub}", json=claims, timeout=5)
    response.raise_for_status()


@dataclass
class Providers:
    bergen: Provider
    moskenes: Provider
    hostile: HostileProvider
    hostile_other: HostileProvider

    def all(self) -> list[Provider]:
        return [self.bergen, self.moskenes, self.hostile, self.hostile_other]


def start_all(folder: Path) -> Providers:
    from joserfc.jwk import RSAKey

    keys = {}
    for name in ("bergen", "moskenes"):
        key = RSAKey.generate_key(2048, parameters={"kid": f"hostile-{name}"}, private=True)
        keys[name] = folder / f"{name}.jwk.json"
        keys[name].write_text(json.dumps(key.as_dict(private=True)))
    # The hostile "Bergen" signs with Moskenes' key when told to; the hostile "Moskenes" publishes
    # that key as its own. The four start side by side (each takes a second or two to import).
    starters = [
        lambda: start_mock("Bergen (oidc-provider-mock)", BERGEN_USERS),
        lambda: start_mock("Moskenes (oidc-provider-mock)", MOSKENES_USERS),
        lambda: start_hostile("hostile Bergen", keys["bergen"], keys["moskenes"]),
        lambda: start_hostile("hostile Moskenes", keys["moskenes"], keys["bergen"]),
    ]
    with ThreadPoolExecutor(len(starters)) as pool:
        futures = [pool.submit(starter) for starter in starters]
    errors = [f.exception() for f in futures if f.exception()]
    if errors:
        for future in futures:
            if not future.exception():
                future.result().stop()
        raise errors[0]
    return Providers(*(future.result() for future in futures))
