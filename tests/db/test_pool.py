"""A request never holds one pool connection while waiting for a second."""

from __future__ import annotations

import asyncio

from litestar.testing import AsyncTestClient

from haoban.app import create_app
from haoban.kit.clock import FrozenClock
from tests.conftest import make_settings
from tests.factories import bearer, citizen_with_tokens


async def test_every_route_works_with_a_single_connection_pool(db_url: str, clock: FrozenClock) -> None:
    settings = make_settings(db_url, HAOBAN_DB_POOL_MIN="1", HAOBAN_DB_POOL_MAX="1")
    app = create_app(settings, database_url=db_url, clock=clock)
    async with AsyncTestClient(app=app) as client:

        async def flow() -> None:
            _, pair = await citizen_with_tokens(client)
            assert (await client.get("/v1/me", headers=bearer(pair["access_token"]))).status_code == 200
            refreshed = await client.post("/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
            assert refreshed.status_code == 200
            assert (await client.get("/.well-known/jwks.json")).status_code == 200

        await asyncio.wait_for(flow(), timeout=30)
