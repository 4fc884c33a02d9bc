"""Field encryption: AES-GCM with key ids, bound to where the value lives."""

from __future__ import annotations

import pytest

from haoban.kit.crypto import DecryptionError, FieldCipher
from haoban.settings import FieldKey

OLD = FieldKey(kid="k1", key=b"1" * 32)
NEW = FieldKey(kid="k2", key=b"2" * 32)


def test_round_trip_and_fresh_nonce() -> None:
    cipher = FieldCipher((OLD,))
    a = cipher.encrypt(b"secret", aad="t:c:1")
    b = cipher.encrypt(b"secret", aad="t:c:1")
    assert a != b
    assert cipher.decrypt(a, aad="t:c:1") == b"secret"
    assert a.startswith("v1.k1.")


def test_wrong_context_is_refused() -> None:
    cipher = FieldCipher((OLD,))
    token = cipher.encrypt(b"secret", aad="t:c:1")
    with pytest.raises(DecryptionError):
        cipher.decrypt(token, aad="t:c:2")


def test_tampering_is_refused() -> None:
    cipher = FieldCipher((OLD,))
    token = cipher.encrypt(b"secret", aad="x")
    head, body = token.rsplit(".", 1)
    flipped = ("A" if body[3] != "A" else "B").join((body[:3], body[4:]))
    with pytest.raises(DecryptionError):
        cipher.decrypt(f"{head}.{flipped}", aad="x")


def test_rotation_new_key_encrypts_old_key_still_decrypts() -> None:
    old_token = FieldCipher((OLD,)).encrypt(b"v", aad="x")
    rotated = FieldCipher((NEW, OLD))
    assert rotated.decrypt(old_token, aad="x") == b"v"
    assert rotated.encrypt(b"v", aad="x").startswith("v1.k2.")
    with pytest.raises(DecryptionError, match="unknown key id"):
        FieldCipher((NEW,)).decrypt(old_token, aad="x")
