"""Refresh tokens: opaque, stored as an HMAC, rotated on use, reuse revokes the family."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

import asyncpg
import httpx
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.kit.clock import FrozenClock
from tests.conftest import LiveServer
from tests.factories import bearer, citizen_with_tokens


async def _refresh(client: AsyncTestClient[Litestar], token: str) -> tuple[int, dict[str, object]]:
    response = await client.post("/v1/auth/refresh", json={"refresh_token": token})
    assert response.headers["cache-control"] == "no-store"
    return response.status_code, response.json()


async def test_refresh_rotates_the_token(client: AsyncTestClient[Litestar]) -> None:
    _, first = await citizen_with_tokens(client)
    status, second = await _refresh(client, first["refresh_token"])
    assert status == 200, second
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert str(second["refresh_token"]).startswith("hbr_")
    me = await client.get("/v1/me", headers=bearer(str(second["access_token"])))
    assert me.status_code == 200


async def test_reused_refresh_token_revokes_the_whole_family(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection
) -> None:
    citizen_id, first = await citizen_with_tokens(client)
    _, second = await _refresh(client, first["refresh_token"])

    status, body = await _refresh(client, first["refresh_token"])  # replay of a rotated token
    assert status == 400
    assert body["code"] == "invalid_grant"

    # The legitimate newest pair is dead too: refresh and access.
    status, body = await _refresh(client, str(second["refresh_token"]))
    assert status == 400
    assert body["code"] == "invalid_grant"
    assert (await client.get("/v1/me", headers=bearer(str(second["access_token"])))).status_code == 401
    assert (await client.get("/v1/me", headers=bearer(first["access_token"]))).status_code == 401

    reason = await db.fetchval(
        "SELECT details->>'reason' FROM audit_events WHERE action = 'session.revoked' AND subject_id = $1",
        citizen_id,
    )
    assert reason == "refresh_token_reuse"


async def test_other_sessions_survive_a_reuse(client: AsyncTestClient[Litestar]) -> None:
    citizen_id, first = await citizen_with_tokens(client)
    other = (await client.post(f"/sandbox/citizens/{citizen_id}/tokens", json={})).json()
    await _refresh(client, first["refresh_token"])
    await _refresh(client, first["refresh_token"])
    assert (await client.get("/v1/me", headers=bearer(other["access_token"]))).status_code == 200


async def test_unknown_refresh_token_is_invalid_grant(client: AsyncTestClient[Litestar]) -> None:
    status, body = await _refresh(client, "hbr_" + "x" * 43)
    assert status == 400
    assert body["code"] == "invalid_grant"


async def test_refresh_has_an_absolute_lifetime(client: AsyncTestClient[Litestar], clock: FrozenClock) -> None:
    _, pair = await citizen_with_tokens(client)
    clock.advance(timedelta(days=29))
    status, fresh = await _refresh(client, pair["refresh_token"])
    assert status == 200
    clock.advance(timedelta(days=1, seconds=1))
    status, body = await _refresh(client, str(fresh["refresh_token"]))
    assert status == 400
    assert body["code"] == "invalid_grant"


async def test_refresh_tokens_are_stored_only_as_hmac(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection
) -> None:
    _, pair = await citizen_with_tokens(client)
    token = pair["refresh_token"]
    dump = await db.fetchval("SELECT string_agg(encode(token_hmac, 'escape'), '') FROM refresh_tokens")
    assert token not in (dump or "")
    assert token.encode() not in b"".join(
        r["token_hmac"] for r in await db.fetch("SELECT token_hmac FROM refresh_tokens")
    )


async def test_concurrent_refreshes_of_one_token_yield_at_most_one_pair(
    live_server: Callable[..., LiveServer],
) -> None:
    """Against a real server process, so the eight requests really overlap."""
    server = live_server()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        citizen = (await http.post("/sandbox/citizens", json={})).json()["citizen_id"]
        pair = (await http.post(f"/sandbox/citizens/{citizen}/tokens", json={})).json()
        results = await asyncio.gather(
            *(http.post("/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}) for _ in range(8))
        )
        statuses = sorted(r.status_code for r in results)
        winners = [r.json() for r in results if r.status_code == 200]
        assert len(winners) <= 1, statuses
        assert all(r.json()["code"] == "invalid_grant" for r in results if r.status_code != 200)
        # Someone replayed the token, so the family is revoked: even the winner is dead.
        for body in winners:
            again = await http.post("/v1/auth/refresh", json={"refresh_token": body["refresh_token"]})
            assert again.status_code == 400


async def test_logout_ends_the_session(client: AsyncTestClient[Litestar]) -> None:
    _, pair = await citizen_with_tokens(client)
    out = await client.post("/v1/auth/logout", headers=bearer(pair["access_token"]))
    assert out.status_code == 204
    assert (await client.get("/v1/me", headers=bearer(pair["access_token"]))).status_code == 401
    status, _ = await _refresh(client, pair["refresh_token"])
    assert status == 400


async def test_malformed_refresh_request_is_422(client: AsyncTestClient[Litestar]) -> None:
    response = await client.post("/v1/auth/refresh", json={"refresh_token": "plainly wrong"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "refresh_token"
