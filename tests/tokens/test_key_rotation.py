"""`haoban keys rotate`: a new key signs, the old one verifies until its tokens expire."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.audit.schemas import Actor
from haoban.cli import main
from haoban.kit.clock import FrozenClock
from haoban.kit.crypto import FieldCipher
from haoban.settings import Settings
from haoban.tokens.service import rotate_keys
from tests.conftest import server_env
from tests.factories import bearer, citizen_with_tokens

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "k"}


async def _rotate(db: asyncpg.Connection, settings: Settings, clock: FrozenClock) -> str:
    async with db.transaction():
        return await rotate_keys(
            db,
            cipher=FieldCipher(settings.security.field_keys),
            settings=settings.security,
            now=clock.now(),
            actor=Actor(type="cli", id="tests"),
        )


async def test_jwks_serves_public_members_only(client: AsyncTestClient[Litestar]) -> None:
    keys = (await client.get("/.well-known/jwks.json")).json()["keys"]
    assert keys
    for key in keys:
        assert key["kty"] == "EC"
        assert key["alg"] == "ES256"
        assert not PRIVATE_MEMBERS & set(key)


async def test_private_keys_are_stored_encrypted(db: asyncpg.Connection) -> None:
    for row in await db.fetch("SELECT private_key_enc FROM signing_keys"):
        assert row["private_key_enc"].startswith("v1.test1.")
        assert "PRIVATE KEY" not in row["private_key_enc"]


async def test_old_key_verifies_until_its_tokens_expire(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, settings: Settings, clock: FrozenClock
) -> None:
    _, old_pair = await citizen_with_tokens(client)
    old_kid = (await client.get("/.well-known/jwks.json")).json()["keys"][0]["kid"]

    new_kid = await _rotate(db, settings, clock)
    clock.advance(timedelta(seconds=61))  # past the key cache
    kids = {k["kid"] for k in (await client.get("/.well-known/jwks.json")).json()["keys"]}
    assert kids == {old_kid, new_kid}
    assert (await client.get("/v1/me", headers=bearer(old_pair["access_token"]))).status_code == 200

    _, new_pair = await citizen_with_tokens(client)
    import jwt

    assert jwt.get_unverified_header(new_pair["access_token"])["kid"] == new_kid

    clock.advance(timedelta(seconds=settings.security.access_token_ttl_s + 120))
    kids = {k["kid"] for k in (await client.get("/.well-known/jwks.json")).json()["keys"]}
    assert kids == {new_kid}


async def test_only_one_key_is_ever_active(db: asyncpg.Connection, settings: Settings, clock: FrozenClock) -> None:
    for _ in range(3):
        await _rotate(db, settings, clock)
    assert await db.fetchval("SELECT count(*) FROM signing_keys WHERE status = 'active'") == 1
    assert await db.fetchval("SELECT count(*) FROM audit_events WHERE action = 'signing_key.rotated'") >= 3


def test_cli_rotate(db_url: str, monkeypatch: object, capsys: object) -> None:
    import pytest

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    for name, value in server_env(db_url).items():
        monkeypatch.setenv(name, value)
    assert main(["keys", "rotate"]) == 0
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "new active signing key" in out
