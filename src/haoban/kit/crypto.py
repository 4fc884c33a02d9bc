"""Field encryption: AES-256-GCM with a key id, so keys can rotate.

Ciphertext format: `v1.<kid>.<nonce b64url>.<ciphertext+tag b64url>`. The
associated data binds a value to where it is stored (table, column, row).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from haoban.settings import FieldKey


class DecryptionError(ValueError):
    """A value could not be decrypted: unknown key id, bad format or tampering."""


def _b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class FieldCipher:
    def __init__(self, keys: tuple[FieldKey, ...]) -> None:
        if not keys:
            raise ValueError("at least one field key is required")
        self._active = keys[0]
        self._by_kid = {k.kid: AESGCM(k.key) for k in keys}

    @property
    def active_kid(self) -> str:
        return self._active.kid

    def encrypt(self, plaintext: bytes, *, aad: str) -> str:
        nonce = secrets.token_bytes(12)
        ct = self._by_kid[self._active.kid].encrypt(nonce, plaintext, aad.encode())
        return f"v1.{self._active.kid}.{_b64e(nonce)}.{_b64e(ct)}"

    def decrypt(self, token: str, *, aad: str) -> bytes:
        parts = token.split(".")
        if len(parts) != 4 or parts[0] != "v1":
            raise DecryptionError("unknown ciphertext format")
        aes = self._by_kid.get(parts[1])
        if aes is None:
            raise DecryptionError(f"unknown key id {parts[1]!r}")
        try:
            return aes.decrypt(_b64d(parts[2]), _b64d(parts[3]), aad.encode())
        except (InvalidTag, ValueError) as exc:
            raise DecryptionError("ciphertext failed authentication") from exc


def keyed_hash(key: bytes, value: str) -> bytes:
    """HMAC-SHA256, for looking values up without storing them."""
    return hmac.new(key, value.encode(), hashlib.sha256).digest()
