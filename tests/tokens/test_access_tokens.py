"""The one guard refuses every access token that is not exactly right."""

from __future__ import annotations

import base64
import json
import time
import uuid
from datetime import timedelta
from typing import Any

import asyncpg
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.kit.clock import FrozenClock
from haoban.kit.crypto import FieldCipher
from haoban.settings import Settings
from tests.conftest import TEST_ISSUER
from tests.factories import bearer, citizen_with_tokens


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def _claims_and_key(db: asyncpg.Connection, settings: Settings, token: str) -> tuple[dict[str, Any], Any, str]:
    """The claims of `token` and the real active signing key, read from the database."""
    row = await db.fetchrow("SELECT kid, private_key_enc FROM signing_keys WHERE status = 'active'")
    assert row is not None
    pem = FieldCipher(settings.security.field_keys).decrypt(row["private_key_enc"], aad=f"signing_keys:{row['kid']}")
    key = serialization.load_pem_private_key(pem, password=None)
    claims = jwt.decode(token, options={"verify_signature": False})
    return claims, key, row["kid"]


async def _assert_refused(client: AsyncTestClient[Litestar], token: str) -> None:
    response = await client.get("/v1/me", headers=bearer(token))
    assert response.status_code == 401, response.text
    assert response.json()["code"] == "invalid_token"
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "invalid_token" in response.headers["www-authenticate"]


async def test_valid_token_reaches_the_route_with_an_opaque_subject(client: AsyncTestClient[Litestar]) -> None:
    citizen_id, pair = await citizen_with_tokens(client)
    response = await client.get("/v1/me", headers=bearer(pair["access_token"]))
    assert response.status_code == 200, response.text
    assert response.json()["citizen_id"] == citizen_id
    header = jwt.get_unverified_header(pair["access_token"])
    assert header["alg"] == "ES256"
    assert header["typ"] == "at+jwt"
    claims = jwt.decode(pair["access_token"], options={"verify_signature": False})
    for claim in ("iss", "aud", "sub", "exp", "iat", "jti", "scope", "acr", "amr", "auth_time"):
        assert claim in claims
    assert claims["iss"] == TEST_ISSUER
    assert claims["exp"] - claims["iat"] <= 900


async def test_missing_token_is_401(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/v1/me")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_token_in_query_string_is_ignored(client: AsyncTestClient[Litestar]) -> None:
    _, pair = await citizen_with_tokens(client)
    response = await client.get("/v1/me", params={"access_token": pair["access_token"]})
    assert response.status_code == 401


async def test_tampered_payload_is_refused(client: AsyncTestClient[Litestar]) -> None:
    _, pair = await citizen_with_tokens(client)
    header, payload, signature = pair["access_token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["scope"] = "openid applications.write"
    await _assert_refused(client, f"{header}.{_b64(claims)}.{signature}")


async def test_tampered_signature_is_refused(client: AsyncTestClient[Litestar]) -> None:
    _, pair = await citizen_with_tokens(client)
    header, payload, signature = pair["access_token"].split(".")
    flipped = ("A" if signature[5] != "A" else "B").join((signature[:5], signature[6:]))
    await _assert_refused(client, f"{header}.{payload}.{flipped}")


async def test_expired_token_is_refused(client: AsyncTestClient[Litestar], clock: FrozenClock) -> None:
    _, pair = await citizen_with_tokens(client)
    assert (await client.get("/v1/me", headers=bearer(pair["access_token"]))).status_code == 200
    clock.advance(timedelta(seconds=pair["expires_in"] + 31))
    await _assert_refused(client, pair["access_token"])


async def test_alg_none_is_refused(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, settings: Settings
) -> None:
    _, pair = await citizen_with_tokens(client)
    claims, _, kid = await _claims_and_key(db, settings, pair["access_token"])
    unsigned = f"{_b64({'alg': 'none', 'typ': 'at+jwt', 'kid': kid})}.{_b64(claims)}."
    await _assert_refused(client, unsigned)


async def test_hs256_with_the_public_key_as_secret_is_refused(client: AsyncTestClient[Litestar]) -> None:
    _, pair = await citizen_with_tokens(client)
    jwks = (await client.get("/.well-known/jwks.json")).json()
    claims = jwt.decode(pair["access_token"], options={"verify_signature": False})
    secret = json.dumps(jwks["keys"][0]).encode()
    header = {"alg": "HS256", "typ": "at+jwt", "kid": jwks["keys"][0]["kid"]}
    forged = f"{_b64(header)}.{_b64(claims)}"
    import hashlib
    import hmac

    sig = base64.urlsafe_b64encode(hmac.new(secret, forged.encode(), hashlib.sha256).digest()).rstrip(b"=").decode()
    await _assert_refused(client, f"{forged}.{sig}")


@pytest.mark.parametrize(
    ("change", "value"),
    [
        ("aud", "some-other-api"),
        ("iss", "https://evil.example"),
        ("jti", None),
        ("sid", str(uuid.uuid4())),
        ("iat", int(time.time()) + 3600),
        ("sub", "410105199001011234"),
    ],
)
async def test_claims_must_be_right(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, settings: Settings, change: str, value: object
) -> None:
    _, pair = await citizen_with_tokens(client)
    claims, key, kid = await _claims_and_key(db, settings, pair["access_token"])
    if value is None:
        del claims[change]
    else:
        claims[change] = value
    # Re-signed with the real key: only the claim is wrong.
    await _assert_refused(client, jwt.encode(claims, key, algorithm="ES256", headers={"kid": kid, "typ": "at+jwt"}))


async def test_wrong_typ_is_refused(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, settings: Settings
) -> None:
    _, pair = await citizen_with_tokens(client)
    claims, key, kid = await _claims_and_key(db, settings, pair["access_token"])
    await _assert_refused(client, jwt.encode(claims, key, algorithm="ES256", headers={"kid": kid, "typ": "JWT"}))


async def test_unknown_kid_is_refused(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, settings: Settings
) -> None:
    _, pair = await citizen_with_tokens(client)
    claims, key, _ = await _claims_and_key(db, settings, pair["access_token"])
    token = jwt.encode(claims, key, algorithm="ES256", headers={"kid": "not-a-key", "typ": "at+jwt"})
    await _assert_refused(client, token)


async def test_garbage_is_refused(client: AsyncTestClient[Litestar]) -> None:
    await _assert_refused(client, "not.a.jwt")
    await _assert_refused(client, "eyJhbGciOiJFUzI1NiJ9")


async def test_refused_tokens_leave_no_connection_checked_out(
    client: AsyncTestClient[Litestar], app: Litestar, clock: FrozenClock
) -> None:
    """Slow refusals (session lookup, key reload) must not leak the request's connection."""
    _, pair = await citizen_with_tokens(client)
    clock.advance(timedelta(seconds=pair["expires_in"] + 120))
    for _ in range(3):
        await _assert_refused(client, pair["access_token"])
    pool = app.state.runtime.pool
    assert pool.get_idle_size() == pool.get_size()
