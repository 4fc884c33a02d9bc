"""30 concurrent withdrawals by one citizen against a server subprocess: exactly one is paid."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import asyncpg
import httpx

from haoban.kit.clock import FrozenClock
from haoban.settings import Settings
from tests.applications import money
from tests.applications.people import apply, person
from tests.conftest import LiveServer

BALANCE = 3_865_000  # tests/sandbox/bodies.fund


async def test_thirty_concurrent_withdrawals_pay_exactly_once(
    db: asyncpg.Connection, settings: Settings, clock: FrozenClock, live_server: Callable[..., LiveServer]
) -> None:
    server = await asyncio.to_thread(live_server, HAOBAN_DB_POOL_MAX="10")
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        renter = await person(http, db, settings, clock, seq=701)
        answers = await asyncio.gather(
            *(apply(http, renter, "hpf.withdraw.rent", headers={"Idempotency-Key": f"k-701-{i}"}) for i in range(30))
        )
    statuses = [r.status_code for r in answers]
    assert all(s < 500 for s in statuses), [r.text for r in answers if r.status_code >= 500]
    paid = [r.json() for r in answers if r.status_code == 201 and r.json()["status"] == "paid"]
    assert len(paid) == 1, statuses
    for r in answers:
        if r.status_code == 201 and r.json()["status"] != "paid":
            assert r.json()["status"] == "rejected"
        elif r.status_code != 201:
            assert r.status_code == 409
            assert r.json()["code"] in {"application_exists", "insufficient_funds"}
    amount = paid[0]["payout"]["amount_fen"]
    transfers = await money.bank_transfers(db, renter.card_no)
    assert [(t["amount_fen"], t["status"]) for t in transfers] == [(amount, "settled")]
    assert await money.member_balance(db, renter.citizen_id) == BALANCE - amount
    assert await money.unbalanced_groups(db) == 0
    live = await db.fetchval("SELECT count(*) FROM applications WHERE status NOT IN ('rejected', 'cancelled')")
    assert live == 1
