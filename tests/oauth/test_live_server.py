"""The code flow over real HTTP against a server process, where concurrent requests really overlap."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import asyncpg
import httpx
import pytest

from haoban.kit.clock import FrozenClock
from haoban.settings import Settings
from tests.conftest import TEST_ISSUER, LiveServer
from tests.factories import bearer
from tests.oauth import flows

pytestmark = pytest.mark.slow


async def test_full_flow_and_concurrent_refreshes_have_one_winner(
    live_server: Callable[..., LiveServer], db: asyncpg.Connection, settings: Settings, clock: FrozenClock
) -> None:
    await flows.register_clients(db, settings.security.token_hmac_key, clock.now())
    server = live_server()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        meta = (await http.get("/.well-known/openid-configuration")).json()
        assert meta["issuer"] == TEST_ISSUER
        access = await flows.face_token(db, settings, clock, await flows.citizen(http))
        body = await flows.tokens(http, access)
        assert (await http.get("/oauth/userinfo", headers=bearer(body["access_token"]))).status_code == 200

        form = {"grant_type": "refresh_token", "client_id": flows.PUBLIC_ID, "refresh_token": body["refresh_token"]}
        results = await asyncio.gather(*(http.post("/oauth/token", data=form) for _ in range(6)))
        codes = sorted(r.status_code for r in results)
        assert codes == [200, 400, 400, 400, 400, 400], [r.text for r in results]
        # The losers count as replays: the whole family is revoked, the winner's tokens included.
        winner = next(r.json() for r in results if r.status_code == 200)
        assert (await http.get("/oauth/userinfo", headers=bearer(winner["access_token"]))).status_code == 401

        code = await flows.code(http, access)
        redemptions = await asyncio.gather(*(flows.exchange(http, code) for _ in range(6)))
        assert sorted(r.status_code for r in redemptions) == [200, 400, 400, 400, 400, 400]
