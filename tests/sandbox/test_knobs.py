"""Sandbox knobs: an exchange source made failing, the sandbox clock moved forward; both audited, both 404
with the sandbox off, and production's clock is never offsettable."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.app import create_app
from haoban.kit.clock import FrozenClock, OffsetClock
from haoban.runtime import Runtime
from haoban.sandbox.demo import ZHANG_SAN, load_demo
from tests.conftest import make_settings

Client = AsyncTestClient[Litestar]


@pytest.fixture
async def closed_app(db_url: str, clock: FrozenClock) -> AsyncIterator[tuple[Litestar, Client]]:
    app = create_app(make_settings(db_url, HAOBAN_SANDBOX="false"), database_url=db_url, clock=clock)
    async with AsyncTestClient(app=app, base_url="http://haoban.test") as c:
        yield app, c


async def _face_token(client: Client, app: Litestar, db: asyncpg.Connection) -> str:
    async with db.transaction():
        await load_demo(db, app.state.runtime)
    minted = await client.post("/sandbox/tokens", json={"id_number": ZHANG_SAN, "acr": "face"})
    assert minted.status_code == 201, minted.text
    token: str = minted.json()["access_token"]
    return token


async def _statuses(client: Client, token: str) -> dict[str, str]:
    linked = await client.get("/v1/me/linked-data", headers={"Authorization": f"Bearer {token}"})
    assert linked.status_code == 200, linked.text
    return {s["source"]: s["status"] for s in linked.json()["sources"]}


async def test_a_source_made_failing_shows_unavailable_then_recovers(
    client: Client, app: Litestar, db: asyncpg.Connection
) -> None:
    token = await _face_token(client, app, db)
    assert (await _statuses(client, token))["household"] == "ok"
    set_ = await client.post("/sandbox/sources/household/faults", json={"failure_rate": 1.0, "latency_ms": 5})
    assert set_.status_code == 200, set_.text
    assert set_.json() == {"latency_ms": 5, "failure_rate": 1.0}
    statuses = await _statuses(client, token)
    assert statuses["household"] == "unavailable"
    assert statuses["identity"] == "ok"
    assert (await client.post("/sandbox/sources/household/faults", json={})).status_code == 200
    assert (await _statuses(client, token))["household"] == "ok"
    audited = await db.fetchval(
        "SELECT count(*) FROM audit_events WHERE action = 'sandbox.source_faults_set' AND subject_id = 'household'"
    )
    assert audited == 2


async def test_bad_fault_settings_name_the_field(client: Client) -> None:
    unknown = await client.post("/sandbox/sources/registry/faults", json={})
    assert unknown.status_code in (400, 422)
    bad = await client.post("/sandbox/sources/household/faults", json={"failure_rate": 2})
    assert bad.status_code in (400, 422)
    assert "failure_rate" in bad.text


async def test_the_sandbox_clock_moves_forward_and_deadlines_pass(
    client: Client, app: Litestar, clock: FrozenClock, db: asyncpg.Connection
) -> None:
    token = await _face_token(client, app, db)
    assert (await client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})).status_code == 200
    start = await client.get("/sandbox/clock")
    assert start.json()["offset_s"] == 0
    moved = await client.post("/sandbox/clock", json={"offset_s": 86_400})
    assert moved.status_code == 200, moved.text
    assert datetime.fromisoformat(moved.json()["now"]) == clock.now() + timedelta(days=1)
    # The access token (ten minutes) has expired on the sandbox clock.
    assert (await client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})).status_code == 401
    row = await db.fetchrow("SELECT details FROM audit_events WHERE action = 'sandbox.clock_set'")
    assert row is not None
    assert row["details"]["offset_s"] == 86_400
    back = await client.post("/sandbox/clock", json={"offset_s": 0})
    assert datetime.fromisoformat(back.json()["now"]) == clock.now()
    refused = await client.post("/sandbox/clock", json={"offset_s": -60})
    assert refused.status_code in (400, 422)
    assert "offset_s" in refused.text


async def test_the_knobs_are_404_and_the_clock_plain_with_the_sandbox_off(
    closed_app: tuple[Litestar, Client], clock: FrozenClock
) -> None:
    app, closed = closed_app
    assert (await closed.post("/sandbox/clock", json={"offset_s": 60})).status_code == 404
    assert (await closed.get("/sandbox/clock")).status_code == 404
    assert (await closed.post("/sandbox/sources/household/faults", json={"failure_rate": 1})).status_code == 404
    runtime: Runtime = app.state.runtime
    assert runtime.clock is clock
    assert not isinstance(runtime.clock, OffsetClock)
