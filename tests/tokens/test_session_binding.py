"""An access token is bound to its session: sub, client_id, acr, amr and auth_time must match the record.

Each forged token here is signed with the real active key and names a live
session, so only the comparison with the session record can refuse it.
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import jwt
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.identity.stepup import FACE_ACR
from haoban.settings import Settings
from tests.factories import bearer, citizen_with_tokens
from tests.tokens.test_access_tokens import _claims_and_key

Client = AsyncTestClient[Litestar]


async def forged(db: asyncpg.Connection, settings: Settings, token: str, **over: Any) -> str:
    claims, key, kid = await _claims_and_key(db, settings, token)
    return jwt.encode({**claims, **over}, key, algorithm="ES256", headers={"kid": kid, "typ": "at+jwt"})


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        ("acr", FACE_ACR),
        ("amr", ["face"]),
        ("auth_time", None),  # an hour later than the session's
        ("client_id", "haoban-app"),
        ("sub", None),  # another citizen's id
    ],
)
async def test_a_token_with_other_claims_than_its_session_is_refused_and_audited(
    client: Client, db: asyncpg.Connection, settings: Settings, claim: str, value: Any
) -> None:
    _, pair = await citizen_with_tokens(client)
    other_id, _ = await citizen_with_tokens(client)
    genuine = pair["access_token"]
    claims = jwt.decode(genuine, options={"verify_signature": False})
    if claim == "auth_time":
        value = claims["auth_time"] + 3600
    if claim == "sub":
        value = other_id
    assert claims[claim] != value
    token = await forged(db, settings, genuine, **{claim: value})

    response = await client.get("/v1/me", headers=bearer(token))
    assert response.status_code == 401, response.text
    assert response.json()["code"] == "invalid_token"
    assert "session" in response.json()["detail_en"]

    row = await db.fetchrow("SELECT subject_id, details FROM audit_events WHERE action = 'token.session_mismatch'")
    assert row is not None
    assert row["subject_id"] == claims["sid"]
    assert claim in str(row["details"])
    assert (await client.get("/v1/me", headers=bearer(genuine))).status_code == 200


async def test_the_same_claims_resigned_are_accepted(
    client: Client, db: asyncpg.Connection, settings: Settings
) -> None:
    """Guards the test above: re-signing alone changes nothing, only a changed claim is refused."""
    _, pair = await citizen_with_tokens(client)
    token = await forged(db, settings, pair["access_token"], jti=uuid.uuid4().hex)
    assert (await client.get("/v1/me", headers=bearer(token))).status_code == 200
    assert await db.fetchval("SELECT count(*) FROM audit_events WHERE action = 'token.session_mismatch'") == 0
