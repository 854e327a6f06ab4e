"""Encrypt small secrets that must be read back (a TOTP seed), with a key derived from the
application's SECRET_KEY.

The key is derived with HKDF-SHA256 and a `purpose` label, so the cookie-signing key and each
kind of stored secret use different keys; Fernet adds authentication, so a changed row is
refused rather than decrypted into garbage. Rotating SECRET_KEY makes old secrets unreadable
(`SecretUnreadable`): the people concerned use a recovery code or ask an admin to reset.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app


class SecretUnreadable(Exception):
    """The stored value was not written with this SECRET_KEY and purpose (or was altered)."""


def _fernet(purpose: str, secret_key: str | bytes | None = None) -> Fernet:
    raw = secret_key if secret_key is not None else current_app.config["SECRET_KEY"]
    material = raw.encode() if isinstance(raw, str) else raw
    key = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=b"portal-de-atendimento/secretbox",
        info=purpose.encode(),
    ).derive(material)
    return Fernet(base64.urlsafe_b64encode(key))


def seal(plaintext: str, purpose: str, *, secret_key: str | bytes | None = None) -> str:
    """The encrypted, authenticated form of `plaintext`, as ASCII text for a String column."""
    return _fernet(purpose, secret_key).encrypt(plaintext.encode()).decode("ascii")


def open_sealed(token: str, purpose: str, *, secret_key: str | bytes | None = None) -> str:
    """The plaintext that `seal` was given; SecretUnreadable when the key or purpose differ."""
    try:
        return _fernet(purpose, secret_key).decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeError) as exc:
        raise SecretUnreadable(purpose) from exc
