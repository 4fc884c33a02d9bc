"""Linked data through the app while one source is a real, stalled HTTP service in another process."""

from __future__ import annotations

import time

import asyncpg
from litestar.testing import AsyncTestClient

from haoban.app import create_app
from haoban.kit.clock import FrozenClock
from tests.conftest import make_settings
from tests.exchange import seed
from tests.exchange.conftest import SIM_TOKEN, Simulator
from tests.exchange.test_linked_data import ALL_ITEMS, bound_citizen, by_source, consent

TIMEOUT_MS = 600


async def test_a_stalled_http_source_is_unavailable_and_the_response_still_comes_in_time(
    sim_server: Simulator, db_url: str, db: asyncpg.Connection, clock: FrozenClock
) -> None:
    me = seed.person(201)
    await seed.everything(db, me, seed.person(202), seed.person(203))
    settings = make_settings(
        db_url,
        HAOBAN_SOURCE_ESTATE_URL=sim_server.base_url,
        HAOBAN_SOURCE_ESTATE_TOKEN=SIM_TOKEN,
        HAOBAN_SOURCE_TIMEOUT_MS=str(TIMEOUT_MS),
    )
    app = create_app(settings, database_url=db_url, clock=clock)
    async with AsyncTestClient(app=app) as client:
        _, auth = await bound_citizen(client, me)
        await consent(client, auth, ALL_ITEMS)

        healthy = by_source((await client.get("/v1/me/linked-data", headers=auth)).json())
        assert healthy["estate"]["status"] == "ok"
        assert healthy["estate"]["system"] == f"http:{sim_server.base_url}"

        await sim_server.control(stall=True)
        started = time.monotonic()
        response = await client.get("/v1/me/linked-data", headers=auth)
        elapsed_ms = (time.monotonic() - started) * 1000
        assert response.status_code == 200
        sources = by_source(response.json())
        assert sources["estate"]["status"] == "unavailable"
        assert sources["estate"]["items"]["properties"] == {"unavailable": True, "reason": "timeout"}
        assert all(sources[s]["status"] == "ok" for s in sources if s != "estate")
        # The contract bound, generous for a loaded 2-core machine; speed itself lives in bench/.
        assert elapsed_ms < TIMEOUT_MS + 1000
        assert await sim_server.requests() >= 2


async def test_timeouts_through_gathering_open_the_breaker(
    sim_server: Simulator, db_url: str, db: asyncpg.Connection, clock: FrozenClock
) -> None:
    """The adapter's own deadline must fire before gathering's outer bound, so timeouts count."""
    me = seed.person(211)
    await seed.everything(db, me, seed.person(212), seed.person(213))
    settings = make_settings(
        db_url,
        HAOBAN_SOURCE_ESTATE_URL=sim_server.base_url,
        HAOBAN_SOURCE_ESTATE_TOKEN=SIM_TOKEN,
        HAOBAN_SOURCE_TIMEOUT_MS="300",
        HAOBAN_SOURCE_RETRIES="0",
        HAOBAN_SOURCE_BREAKER_FAILURES="2",
    )
    app = create_app(settings, database_url=db_url, clock=clock)
    async with AsyncTestClient(app=app) as client:
        _, auth = await bound_citizen(client, me)
        await consent(client, auth, ALL_ITEMS)
        await sim_server.control(stall=True)
        for _ in range(2):
            reason = by_source((await client.get("/v1/me/linked-data", headers=auth)).json())["estate"]
            assert reason["items"]["properties"]["reason"] == "timeout"
        asked = await sim_server.requests()
        third = by_source((await client.get("/v1/me/linked-data", headers=auth)).json())["estate"]
        assert third["items"]["properties"] == {"unavailable": True, "reason": "circuit_open"}
        assert await sim_server.requests() == asked
