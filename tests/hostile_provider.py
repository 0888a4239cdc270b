"""A small, real OpenID Connect provider that misbehaves on purpose, for the hostile sign-in tests.

oidc-provider-mock is an honest provider: it cannot sign with another kommune's key, put a wrong
issuer in a token or answer garbage. This one can. It is a real HTTP process (the tests start it
with `python -m tests.hostile_provider`); its tokens are signed by joserfc, the JOSE library
Authlib itself uses. What it does wrong is set per test through POST /_mode:

    {"mode": "good" | "wrong_issuer" | "foreign_key" | "foreign_kid" | "expired" | "nonce" |
             "audience" | "hs256" | "no_id_token" | "token_garbage" | "token_error" |
             "token_down" | "discovery_garbage" | "discovery_wrong_issuer",
     "claims": {...}}

Authorization is granted at once (no login page): GET /authorize redirects straight back with a
code and the caller's state.
"""

from __future__ import annotations

import argparse
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey


class State:
    def __init__(self, issuer: str, key: RSAKey, other_key: RSAKey, closed_port: int):
        self.issuer = issuer
        self.key = key
        self.other_key = other_key
        self.closed_port = closed_port
        self.mode = "good"
        self.claims: dict = {"sub": "hostile-subject"}
        self.codes: dict[str, dict] = {}
        self.lock = threading.Lock()


def make_handler(state: State):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format, *args):  # noqa: A002 - the base class's name
            pass

        def _send(self, status: int, body: bytes | str, content_type="application/json"):
            data = body.encode() if isinstance(body, str) else body
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _json(self, status: int, value):
            self._send(status, json.dumps(value))

        def do_GET(self):
            url = urlparse(self.path)
            if url.path == "/.well-known/openid-configuration":
                return self._discovery()
            if url.path == "/jwks":
                return self._json(200, {"keys": [state.key.as_dict(private=False)]})
            if url.path == "/authorize":
                return self._authorize(parse_qs(url.query))
            return self._send(404, "not found", "text/plain")

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode()
            url = urlparse(self.path)
            if url.path == "/_mode":
                settings = json.loads(body)
                with state.lock:
                    state.mode = settings["mode"]
                    state.claims = settings.get("claims", {"sub": "hostile-subject"})
                return self._json(200, {"mode": state.mode})
            if url.path == "/token":
                return self._token(parse_qs(body))
            return self._send(404, "not found", "text/plain")

        def _discovery(self):
            if state.mode == "discovery_garbage":
                return self._send(200, "<html><body>Vedlikehold</body></html>", "text/html")
            issuer = state.issuer
            if state.mode == "discovery_wrong_issuer":
                issuer = "https://login.example.invalid/en-annen-kommune"
            token_base = state.issuer
            if state.mode == "token_down":
                token_base = f"http://127.0.0.1:{state.closed_port}"
            return self._json(
                200,
                {
                    "issuer": issuer,
                    "authorization_endpoint": f"{state.issuer}/authorize",
                    "token_endpoint": f"{token_base}/token",
                    "jwks_uri": f"{state.issuer}/jwks",
                    "response_types_supported": ["code"],
                    "subject_types_supported": ["public"],
                    # Advertising HS256 too: the relying party must not take the hint.
                    "id_token_signing_alg_values_supported": ["RS256", "HS256"],
                    "code_challenge_methods_supported": ["S256"],
                },
            )

        def _authorize(self, params):
            def one(name):
                return params.get(name, [""])[0]

            code = secrets.token_urlsafe(16)
            with state.lock:
                state.codes[code] = {"nonce": one("nonce"), "client_id": one("client_id")}
            query = urlencode({"code": code, "state": one("state")})
            self.send_response(302)
            self.send_header("Location", f"{one('redirect_uri')}?{query}")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _token(self, form):
            code = form.get("code", [""])[0]
            with state.lock:
                grant = state.codes.pop(code, None)
                mode = state.mode
                claims = dict(state.claims)
            if mode == "token_garbage":
                return self._send(200, "<html>502 Bad Gateway</html>", "text/html")
            if grant is None or mode == "token_error":
                return self._json(400, {"error": "invalid_grant"})
            client_id = grant["client_id"] or self.headers.get("X-Client-Id", "")
            if not client_id and "client_id" in form:
                client_id = form["client_id"][0]
            client_id = client_id or _basic_client_id(self.headers.get("Authorization", ""))
            now = int(time.time())
            payload = {
                "iss": state.issuer,
                "aud": client_id,
                "iat": now,
                "exp": now + 300,
                "nonce": grant["nonce"],
                **claims,
            }
            key, header = state.key, {"alg": "RS256", "kid": state.key.kid}
            if mode == "wrong_issuer":
                payload["iss"] = "https://login.example.invalid/en-annen-kommune"
            elif mode == "foreign_key":
                # The other kommune's key, under its own key id.
                key, header = state.other_key, {"alg": "RS256", "kid": state.other_key.kid}
            elif mode == "foreign_kid":
                # The other kommune's key, claiming to be this provider's key.
                key = state.other_key
            elif mode == "expired":
                payload["iat"], payload["exp"] = now - 3600, now - 1800
            elif mode == "nonce":
                payload["nonce"] = "en-annen-nonce"
            elif mode == "audience":
                payload["aud"] = "en-annen-klient"
            elif mode == "hs256":
                # Signed with the client id as an HMAC secret: a classic algorithm-confusion try.
                key = OctKey.import_key(client_id.encode().ljust(32, b"x"))
                header = {"alg": "HS256"}
            token = {"access_token": secrets.token_urlsafe(16), "token_type": "Bearer"}
            if mode != "no_id_token":
                token["id_token"] = jwt.encode(header, payload, key)
            return self._json(200, token)

    return Handler


def _basic_client_id(authorization: str) -> str:
    import base64

    if not authorization.startswith("Basic "):
        return ""
    try:
        decoded = base64.b64decode(authorization[6:]).decode()
    except ValueError:
        return ""
    from urllib.parse import unquote

    return unquote(decoded.split(":", 1)[0])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--key", required=True, help="JSON file with this provider's private JWK")
    parser.add_argument("--other-key", required=True, help="JSON file with another kommune's JWK")
    parser.add_argument("--closed-port", type=int, required=True)
    args = parser.parse_args()
    with open(args.key) as f:
        key = RSAKey.import_key(json.load(f))
    with open(args.other_key) as f:
        other_key = RSAKey.import_key(json.load(f))
    issuer = f"http://127.0.0.1:{args.port}"
    server = ThreadingHTTPServer(
        ("127.0.0.1", args.port), make_handler(State(issuer, key, other_key, args.closed_port))
    )
    server.serve_forever()


if __name__ == "__main__":
    main()
