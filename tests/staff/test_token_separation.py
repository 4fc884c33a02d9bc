"""A staff token is never a citizen token, and a citizen token never opens a staff route."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.kit.clock import FrozenClock
from haoban.staff import service as staff_service
from tests.staff.factories import TEST_ACTOR, citizen, make_staff, staff_headers


async def test_a_staff_token_is_refused_on_citizen_routes(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, clock: FrozenClock
) -> None:
    await make_staff(db, now=clock.now())
    headers = await staff_headers(client)
    for path in ("/v1/me", "/v1/applications"):
        response = await client.get(path, headers=headers)
        assert response.status_code == 401, (path, response.text)
        assert response.json()["code"] == "invalid_token"


async def test_a_citizen_token_is_refused_on_staff_routes(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, clock: FrozenClock
) -> None:
    _citizen_id, headers = await citizen(client)
    queue = await client.get("/v1/staff/queue", headers=headers)
    assert queue.status_code == 401
    assert queue.json()["code"] == "invalid_token"
    assert 'realm="haoban-staff"' in queue.headers["www-authenticate"]
    decision = await client.post(
        "/v1/staff/applications/0b9d6a52-3c1e-4f0a-9b8e-0000000000a1/decision",
        json={"decision": "approve", "reason": "looks fine"},
        headers=headers,
    )
    assert decision.status_code == 401


async def test_staff_routes_need_a_token(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/v1/staff/queue")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"


async def test_an_expired_staff_token_is_refused(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, clock: FrozenClock
) -> None:
    await make_staff(db, now=clock.now())
    headers = await staff_headers(client)
    assert (await client.get("/v1/staff/queue", headers=headers)).status_code == 200
    clock.advance(timedelta(minutes=11))
    assert (await client.get("/v1/staff/queue", headers=headers)).status_code == 401


async def test_disabling_an_account_ends_its_tokens_at_once(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, clock: FrozenClock
) -> None:
    await make_staff(db, now=clock.now())
    headers = await staff_headers(client)
    async with db.transaction():
        await staff_service.set_disabled(db, username="li.reviewer", disabled=True, actor=TEST_ACTOR, now=clock.now())
    assert (await client.get("/v1/staff/queue", headers=headers)).status_code == 401
