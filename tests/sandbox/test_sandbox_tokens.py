"""Sandbox tokens: the face level only when asked for, marked in the token and its session, refused once the
sandbox is off."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import jwt
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.app import create_app
from haoban.kit.clock import FrozenClock
from tests.conftest import make_settings
from tests.sandbox.bodies import person

FACE_ACR = "urn:haoban:loa:face"
RENT = {"service_code": "hpf.withdraw.rent", "inputs": {}}


def _claims(token: str) -> dict[str, object]:
    claims: dict[str, object] = jwt.decode(token, options={"verify_signature": False})
    return claims


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _citizen(client: AsyncTestClient[Litestar], n: int) -> tuple[str, str]:
    id_number = person(n)
    made = await client.post("/sandbox/citizens", json={"id_number": id_number})
    assert made.status_code == 201, made.text
    return id_number, made.json()["citizen_id"]


@pytest.fixture
async def closed_client(db_url: str, clock: FrozenClock) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """The same database served with the sandbox off."""
    app = create_app(make_settings(db_url, HAOBAN_SANDBOX="false"), database_url=db_url, clock=clock)
    async with AsyncTestClient(app=app, base_url="http://haoban.test") as c:
        yield c


async def test_face_level_is_minted_only_when_asked_and_marked(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection
) -> None:
    id_number, citizen_id = await _citizen(client, 901)
    plain = await client.post("/sandbox/tokens", json={"id_number": id_number})
    face = await client.post("/sandbox/tokens", json={"id_number": id_number, "acr": "face"})
    assert plain.status_code == face.status_code == 201, face.text
    plain_claims, face_claims = _claims(plain.json()["access_token"]), _claims(face.json()["access_token"])
    assert plain_claims["acr"] != FACE_ACR
    assert plain_claims["amr"] == ["sandbox"]
    assert face_claims["acr"] == FACE_ACR
    assert face_claims["amr"] == ["face", "sandbox"]
    # The session record agrees with the token (tokens are bound to it).
    row = await db.fetchrow("SELECT acr, amr FROM token_families WHERE id = $1::uuid", face_claims["sid"])
    assert row is not None
    assert (row["acr"], sorted(row["amr"])) == (FACE_ACR, ["face", "sandbox"])
    # The same on the route by citizen id.
    by_id = await client.post(f"/sandbox/citizens/{citizen_id}/tokens", json={"acr": "face"})
    assert by_id.status_code == 201, by_id.text
    assert _claims(by_id.json()["access_token"])["amr"] == ["face", "sandbox"]


async def test_a_face_level_sandbox_token_may_apply_and_a_plain_one_may_not(client: AsyncTestClient[Litestar]) -> None:
    id_number, _ = await _citizen(client, 902)
    plain = (await client.post("/sandbox/tokens", json={"id_number": id_number})).json()["access_token"]
    face = (await client.post("/sandbox/tokens", json={"id_number": id_number, "acr": "face"})).json()["access_token"]
    refused = await client.post("/v1/applications", json=RENT, headers=_bearer(plain))
    assert refused.status_code == 401
    assert refused.json()["code"] == "step_up_required"
    applied = await client.post("/v1/applications", json=RENT, headers=_bearer(face))
    assert applied.json().get("code") != "step_up_required", applied.text
    assert applied.status_code in (200, 201), applied.text


async def test_unknown_levels_are_refused_naming_the_field(client: AsyncTestClient[Litestar]) -> None:
    id_number, _ = await _citizen(client, 903)
    bad = await client.post("/sandbox/tokens", json={"id_number": id_number, "acr": "urn:haoban:loa:face"})
    assert bad.status_code in (400, 422)
    assert "acr" in bad.text


async def test_sandbox_tokens_are_refused_once_the_sandbox_is_off(
    client: AsyncTestClient[Litestar], closed_client: AsyncTestClient[Litestar]
) -> None:
    id_number, _ = await _citizen(client, 904)
    pair = (await client.post("/sandbox/tokens", json={"id_number": id_number, "acr": "face"})).json()
    assert (await client.get("/v1/me", headers=_bearer(pair["access_token"]))).status_code == 200
    me = await closed_client.get("/v1/me", headers=_bearer(pair["access_token"]))
    assert me.status_code == 401
    refreshed = await closed_client.post("/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert refreshed.status_code in (400, 401), refreshed.text
    assert (await closed_client.post("/sandbox/tokens", json={"id_number": id_number})).status_code == 404
