"""When the bank is slow, fails or refuses: the worker finishes the job and the citizen sees why."""

from __future__ import annotations

import asyncio

import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.kit.clock import FrozenClock
from haoban.settings import Settings
from tests.applications import money
from tests.applications.people import apply, person

Client = AsyncTestClient[Litestar]
BALANCE = 3_865_000  # tests/sandbox/bodies.fund


async def faults(client: Client, **knobs: float) -> None:
    body = {"latency_ms": 0, "failure_rate": 0, "timeout_rate": 0, **knobs}
    assert (await client.post("/sandbox/bank/faults", json=body)).status_code == 200


async def settle_in_background(db: asyncpg.Connection, settings: Settings, db_url: str) -> None:
    """Drain the outbox until no payout is in flight (backoff is 1 ms in these tests)."""
    for _ in range(50):
        await money.drain(settings, db_url)
        if not await db.fetchval("SELECT count(*) FROM payouts WHERE status IN ('requested', 'sent')"):
            return
        await asyncio.sleep(0.05)


async def test_bank_timeout_answers_processing_and_the_worker_pays_once(
    client: Client, db: asyncpg.Connection, db_url: str, settings: Settings, clock: FrozenClock
) -> None:
    renter = await person(client, db, settings, clock, seq=801)
    await faults(client, timeout_rate=1)
    body = (await apply(client, renter, "hpf.withdraw.rent")).json()
    assert body["status"] == "approved"
    assert body["payout"]["status"] == "processing"
    await faults(client)
    await settle_in_background(db, settings, db_url)
    after = (await client.get(f"/v1/applications/{body['application_id']}", headers=renter.headers)).json()
    assert after["status"] == "paid"
    assert after["payout"]["status"] == "settled"
    transfers = await money.bank_transfers(db, renter.card_no)
    assert [t["amount_fen"] for t in transfers] == [body["payout"]["amount_fen"]]
    assert await money.unbalanced_groups(db) == 0


async def test_transient_failures_are_retried(
    client: Client, db: asyncpg.Connection, db_url: str, settings: Settings, clock: FrozenClock
) -> None:
    renter = await person(client, db, settings, clock, seq=802)
    await faults(client, failure_rate=1)
    body = (await apply(client, renter, "hpf.withdraw.rent")).json()
    assert body["payout"]["status"] == "processing"
    attempts = await db.fetchval("SELECT attempts FROM outbox WHERE kind = 'payout.send'")
    assert attempts >= 1
    await faults(client)
    await settle_in_background(db, settings, db_url)
    after = (await client.get(f"/v1/applications/{body['application_id']}", headers=renter.headers)).json()
    assert after["status"] == "paid"
    assert len(await money.bank_transfers(db, renter.card_no)) == 1


async def test_permanent_failure_reverses_the_money_and_tells_the_citizen_why(
    client: Client, db: asyncpg.Connection, settings: Settings, clock: FrozenClock
) -> None:
    renter = await person(client, db, settings, clock, seq=803, card_no="6217000000000000")
    body = (await apply(client, renter, "hpf.withdraw.rent")).json()
    assert body["status"] == "cancelled"
    assert body["status_reason"].startswith("payout_failed")
    assert body["payout"]["status"] == "reversed"
    assert body["payout"]["failure_reason"]
    assert await money.member_balance(db, renter.citizen_id) == BALANCE
    assert await money.unbalanced_groups(db) == 0
    inbox = (await client.get("/v1/me/notifications", headers=renter.headers)).json()["notifications"]
    cancelled = [n for n in inbox if n["status"] == "cancelled"]
    assert len(cancelled) == 1
    assert "payout_failed" not in cancelled[0]["body_en"]  # words, never the code
    assert "could not pay your card" in cancelled[0]["body_en"]
    assert "退回您的公积金账户" in cancelled[0]["body_zh"]
    # The refusal frees the period: the citizen can apply again (e.g. after fixing the card).
    again = await apply(client, renter, "hpf.withdraw.rent")
    assert again.status_code == 201
