"""The files of docs/deploy/ as the tests use them: read as written, with only the lines the
deployment guide marks `[your]` changed (to loopback ports, a test certificate, a temporary folder).

Every change is a substitution that must match exactly once, so a file that no longer has the line
the guide tells people to change fails the test instead of being silently ignored.
"""

from __future__ import annotations

import datetime
import ipaddress
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "docs" / "deploy"
SYSTEMD = DEPLOY / "systemd"
# Where docs/deployment.md puts things; the tests put them elsewhere.
APP_DIR = "/srv/handbook/app"


def substitute(text: str, old: str, new: str, *, what: str) -> str:
    """`text` with the one occurrence of the regular expression `old` replaced by `new`."""
    result, count = re.subn(old, lambda _: new, text)
    assert count == 1, f"{what}: expected one line matching {old!r}, found {count}"
    return result


# --- nginx ---------------------------------------------------------------------------------------


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (and its key), made with `cryptography` (a dependency)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert, private = folder / "fullchain.pem", folder / "privkey.pem"
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert, private


def nginx_config(
    tmp: Path, servers: list[str], port: int, *, tls: bool, monitoring: str = "127.0.0.1"
) -> Path:
    """docs/deploy/nginx.conf with its [your] lines changed, inside a minimal main config.

    `servers` are the app servers' base URLs. With `tls`, nginx answers HTTPS on `port` exactly as
    in production (certificate for 127.0.0.1 in tmp/tls/); without, plain HTTP on `port` (the
    cluster test's development-mode servers), the certificate lines left in place. `monitoring`
    is the network allowed /helse/metrikker/: the tests' own client unless a test says otherwise.
    """
    site = (DEPLOY / "nginx.conf").read_text()
    upstreams = "".join(
        f"    server {url.removeprefix('http://')} max_fails=1 fail_timeout=5s;\n"
        for url in servers
    )
    what = "docs/deploy/nginx.conf"
    site = substitute(site, r"(    server 127\.0\.0\.1:800\d [^\n]*\n)+", upstreams, what=what)
    from .ports import free_port

    site = substitute(site, r"listen 80;", f"listen 127.0.0.1:{free_port()};", what=what)
    listen = f"listen 127.0.0.1:{port} ssl http2;" if tls else f"listen 127.0.0.1:{port};"
    site = substitute(site, r"listen 443 ssl http2;", listen, what=what)
    cert, key = self_signed_certificate(tmp / "tls")
    site = substitute(site, r"ssl_certificate /[^;]+;", f"ssl_certificate {cert};", what=what)
    site = substitute(
        site, r"ssl_certificate_key /[^;]+;", f"ssl_certificate_key {key};", what=what
    )
    site = substitute(site, r"allow 10\.0\.50\.0/24;", f"allow {monitoring};", what=what)
    site = substitute(
        site,
        r"access_log /var/log/nginx/handboka\.access\.log handboka;",
        f"access_log {tmp}/nginx-access.log handboka;",
        what=what,
    )
    site = substitute(site, r"/var/cache/nginx/handboka ", f"{tmp}/pages ", what=what)
    site = substitute(
        site,
        r"error_log /var/log/nginx/handboka\.error\.log crit;",
        f"error_log {tmp}/handboka-error.log crit;",
        what=what,
    )
    site = substitute(site, r"root /srv/handbook/app/docs/deploy;", f"root {DEPLOY};", what=what)
    (tmp / "site.conf").write_text(site)
    for folder in ("body", "proxy", "fastcgi", "uwsgi", "scgi", "pages"):
        (tmp / folder).mkdir(exist_ok=True)
        (tmp / folder).chmod(0o777)
    main = tmp / "nginx.conf"
    # Debian's /etc/nginx/nginx.conf, reduced to what a private instance needs.
    main.write_text(
        f"""
worker_processes 2;
# Run as root (CI does), the workers would become "nobody", who cannot reach pytest's folders.
user root;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {tmp}/site.conf;
}}
"""
    )
    return main


# --- the settings file and the systemd units -----------------------------------------------------


def read_environment_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines as systemd's EnvironmentFile reads them (comments, blank lines, quotes)."""
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        key, _, value = line.partition("=")
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key.strip()] = value
    return values


@dataclass
class Unit:
    """What a systemd unit under docs/deploy/systemd/ runs, as the tests run it by hand."""

    name: str
    exec_start: list[str]
    environment: dict[str, str] = field(default_factory=dict)
    working_directory: Path | None = None
    umask: int | None = None


def read_unit(name: str, *, instance: str = "", paths: dict[str, str] | None = None) -> Unit:
    """Parse docs/deploy/systemd/<name>: ExecStart (with %i and %% resolved and the guide's paths
    replaced by `paths`), Environment=, WorkingDirectory= and UMask=."""
    paths = {APP_DIR: str(ROOT), **(paths or {})}
    unit = Unit(name=name, exec_start=[])

    def resolve(value: str) -> str:
        value = value.replace("%i", instance).replace("%%", "%")
        for old, new in paths.items():
            value = value.replace(old, new)
        return value

    for line in (SYSTEMD / name).read_text().splitlines():
        key, _, value = line.partition("=")
        if key == "ExecStart":
            unit.exec_start = shlex.split(resolve(value))
        elif key == "Environment":
            env_key, _, env_value = resolve(value).partition("=")
            unit.environment[env_key] = env_value
        elif key == "WorkingDirectory":
            unit.working_directory = Path(resolve(value))
        elif key == "UMask":
            unit.umask = int(value, 8)
    assert unit.exec_start, f"{name} has no ExecStart"
    return unit
