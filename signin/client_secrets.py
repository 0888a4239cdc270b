"""Client secrets of the organisations' identity providers: encrypted at rest, or read from the
environment. Fernet (AES + HMAC, from the `cryptography` package) does the cryptography.

Keys: `SIGNIN_ENCRYPTION_KEYS` (comma-separated Fernet keys, newest first; older keys still decrypt,
so keys can be rotated). Without it a key is derived from SECRET_KEY, which then must not change
while secrets are stored.
"""

from __future__ import annotations

import base64
import hashlib
import os

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def _fernet() -> MultiFernet:
    keys = list(settings.SIGNIN_ENCRYPTION_KEYS)
    if not keys:
        digest = hashlib.sha256(f"signin-secrets:{settings.SECRET_KEY}".encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    return MultiFernet([Fernet(key) for key in keys])


def encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "A stored client secret cannot be decrypted: SIGNIN_ENCRYPTION_KEYS (or SECRET_KEY) "
            "changed. Enter the secret again in the admin."
        ) from exc


def from_environment(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise ImproperlyConfigured(f"The environment variable {name} holds no client secret.")
    return value
