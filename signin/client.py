"""The OpenID Connect relying party: one Authlib client per organisation, built from its settings.

Authlib does the protocol: `state` (kept in the session under this organisation's name and removed
on first use), `nonce`, PKCE (S256), the code exchange, and the ID token's signature (JWKS), issuer,
audience, expiry and nonce. This module adds only what Authlib leaves to the application:

- the discovery document must name exactly the issuer the organisation configured (OpenID Connect
  Discovery 1.0, section 4.3), so a provider cannot claim to be another;
- only asymmetric signing algorithms are accepted, whatever the provider advertises;
- a token response without an ID token is refused (Authlib returns it without validating anything).
"""

from __future__ import annotations

import logging
import time

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.django_client import DjangoIntegration, DjangoOAuth2App
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from joserfc.errors import JoseError

from .models import SignInConfig

METADATA_SECONDS = 3600
HTTP_TIMEOUT_SECONDS = 10
log = logging.getLogger(__name__)

SIGNING_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384"]

# Everything a provider that is down, slow or answering garbage can make Authlib or requests raise.
PROVIDER_ERRORS = (requests.RequestException, ValueError, KeyError, TypeError)
# Everything a refused response or token makes Authlib or joserfc raise.
PROTOCOL_ERRORS = (AuthlibBaseError, JoseError)


class ProviderError(Exception):
    """The provider could not be reached or answered something unusable."""


class TokenRefused(Exception):
    """The provider answered, but what it answered must not sign anyone in."""


def _metadata(config: SignInConfig) -> dict:
    """The provider's discovery document, cached per organisation and settings version."""
    key = f"signin:metadata:{config.pk}:{config.updated_at.timestamp()}"
    metadata = cache.get(key)
    if metadata is None:
        try:
            response = requests.get(config.discovery_url, timeout=HTTP_TIMEOUT_SECONDS)
            response.raise_for_status()
            metadata = response.json()
        except PROVIDER_ERRORS as exc:
            raise ProviderError(f"discovery failed: {exc}") from exc
        if not isinstance(metadata, dict):
            raise ProviderError("discovery document is not a JSON object")
        if str(metadata.get("issuer", "")).rstrip("/") != config.issuer_url:
            raise TokenRefused(
                f"discovery names issuer {metadata.get('issuer')!r}, expected {config.issuer_url!r}"
            )
        for required in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(metadata.get(required), str):
                raise ProviderError(f"discovery document has no {required}")
        advertised = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
        metadata["id_token_signing_alg_values_supported"] = [
            alg for alg in advertised if alg in SIGNING_ALGORITHMS
        ] or ["RS256"]
        # Authlib treats metadata with _loaded_at as already fetched.
        metadata["_loaded_at"] = time.time()
        cache.set(key, metadata, METADATA_SECONDS)
    return dict(metadata)


def _integration(config: SignInConfig) -> DjangoIntegration:
    # The name keys the state in the session: a state begun for one organisation is unknown to
    # every other organisation's callback.
    return DjangoIntegration(f"signin-{config.organisation_id}")


def state_is_known(config: SignInConfig, request) -> bool:
    """Whether this callback's `state` was issued to this browser for this organisation."""
    state = request.GET.get("state")
    return bool(state) and _integration(config).get_state_data(request.session, state) is not None


def client_for(config: SignInConfig) -> DjangoOAuth2App:
    """An Authlib client for this organisation's provider. Raises ProviderError or TokenRefused."""
    metadata = _metadata(config)
    try:
        secret = config.client_secret()
    except ImproperlyConfigured as exc:
        # A secret that cannot be read is the operator's to fix; the person gets the
        # "does not answer" page, not a 500.
        log.error("sign-in for %s: %s", config.organisation_id, exc)
        raise ProviderError(str(exc)) from exc
    return DjangoOAuth2App(
        _integration(config),
        name=f"signin-{config.organisation_id}",
        client_id=config.client_id,
        client_secret=secret,
        client_kwargs={
            "scope": config.scopes,
            "code_challenge_method": "S256",
            "default_timeout": HTTP_TIMEOUT_SECONDS,
        },
        **metadata,
    )


def end_session_url(config: SignInConfig, *, id_token: str, after: str) -> str | None:
    """The provider's RP-initiated logout address, or None where the provider has none."""
    if not config.end_provider_session:
        return None
    try:
        client = client_for(config)
    except (ProviderError, TokenRefused):
        return None
    if not client.server_metadata.get("end_session_endpoint"):
        return None
    return client.create_logout_url(
        post_logout_redirect_uri=after, id_token_hint=id_token, client_id=config.client_id
    )["url"]
