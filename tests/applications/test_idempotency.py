"""Idempotency-Key on POST /v1/applications."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import asyncpg
import httpx
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.kit.clock import FrozenClock
from haoban.settings import Settings
from tests.applications import money
from tests.applications.people import apply, person
from tests.conftest import LiveServer

Client = AsyncTestClient[Litestar]


async def test_same_key_and_body_gives_the_first_answer_again_and_pays_once(
    client: Client, db: asyncpg.Connection, settings: Settings, clock: FrozenClock
) -> None:
    renter = await person(client, db, settings, clock, seq=601)
    key = {"Idempotency-Key": "3f8e2a4c-0d1b-4c6e-9a7f-000000000601"}
    first = await apply(client, renter, "hpf.withdraw.rent", headers=key)
    again = await apply(client, renter, "hpf.withdraw.rent", headers=key)
    assert first.status_code == again.status_code == 201, again.text
    assert first.content == again.content
    assert await db.fetchval("SELECT count(*) FROM applications") == 1
    assert len(await money.bank_transfers(db, renter.card_no)) == 1


async def test_same_key_other_body_is_422_naming_the_header(
    client: Client, db: asyncpg.Connection, settings: Settings, clock: FrozenClock
) -> None:
    renter = await person(client, db, settings, clock, seq=602)
    key = {"Idempotency-Key": "k-602"}
    assert (await apply(client, renter, "hpf.withdraw.rent", headers=key)).status_code == 201
    other = await apply(client, renter, "hpf.withdraw.loan_repayment", headers=key)
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert other.json()["errors"][0]["field"] == "Idempotency-Key"
    assert await db.fetchval("SELECT count(*) FROM applications") == 1


async def test_refused_request_keeps_no_answer_so_a_retry_runs(
    client: Client, db: asyncpg.Connection, settings: Settings, clock: FrozenClock
) -> None:
    renter = await person(client, db, settings, clock, seq=603)
    paid = await apply(client, renter, "hpf.withdraw.rent")
    assert paid.json()["status"] == "paid"
    key = {"Idempotency-Key": "k-603"}
    conflict = await apply(client, renter, "hpf.withdraw.rent", headers=key)
    assert conflict.status_code == 409
    assert await db.fetchval("SELECT count(*) FROM idempotency_keys WHERE key = 'k-603'") == 0


async def test_key_longer_than_255_is_refused(
    client: Client, db: asyncpg.Connection, settings: Settings, clock: FrozenClock
) -> None:
    renter = await person(client, db, settings, clock, seq=604)
    response = await apply(client, renter, "hpf.withdraw.rent", headers={"Idempotency-Key": "k" * 256})
    assert response.status_code in (400, 422)
    assert await db.fetchval("SELECT count(*) FROM applications") == 0


async def test_keys_are_kept_at_least_24_hours(
    client: Client, db: asyncpg.Connection, settings: Settings, clock: FrozenClock
) -> None:
    renter = await person(client, db, settings, clock, seq=605)
    await apply(client, renter, "hpf.withdraw.rent", headers={"Idempotency-Key": "k-605"})
    kept = await db.fetchval("SELECT expires_at - created_at FROM idempotency_keys WHERE key = 'k-605'")
    assert kept.total_seconds() >= 24 * 3600


async def test_concurrent_requests_with_one_key_run_once(
    db: asyncpg.Connection, settings: Settings, clock: FrozenClock, live_server: Callable[..., LiveServer]
) -> None:
    server = await asyncio.to_thread(live_server, HAOBAN_DB_POOL_MAX="10")
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        renter = await person(http, db, settings, clock, seq=606)
        await http.post("/sandbox/bank/faults", json={"latency_ms": 300, "failure_rate": 0, "timeout_rate": 0})
        key = {"Idempotency-Key": "k-606"}
        answers = await asyncio.gather(*(apply(http, renter, "hpf.withdraw.rent", headers=key) for _ in range(10)))
    statuses = sorted(r.status_code for r in answers)
    assert set(statuses) <= {201, 409}, statuses
    assert statuses.count(201) >= 1
    bodies = {r.content for r in answers if r.status_code == 201}
    assert len(bodies) == 1  # every 201 is the same (first) answer
    assert all(r.json()["code"] == "request_in_progress" for r in answers if r.status_code == 409)
    assert await db.fetchval("SELECT count(*) FROM applications") == 1
    assert len(await money.bank_transfers(db, renter.card_no)) == 1
