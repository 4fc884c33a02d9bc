"""Double spend and conservation under concurrency (the Jepsen bank workload, small)."""

from __future__ import annotations

import asyncio
import contextlib
from uuid import UUID, uuid4

from haoban.db.pool import connect, unit_of_work
from haoban.ledger.service import InsufficientFunds
from haoban.payouts import service as payouts
from haoban.root import outbox_worker
from haoban.runtime import Runtime
from tests.payouts.money import (
    APPLICANT,
    CARD,
    CLOSED_CARD,
    assert_ledger_consistent,
    faults,
    funded_member,
    money_runtime,
    now,
    request,
)

__all__ = ["money_runtime"]


async def _withdraw(runtime: Runtime, url: str, citizen_id: UUID, amount: int, start: asyncio.Event) -> bool:
    conn = await connect(url)
    try:
        await start.wait()
        async with conn.transaction():
            await payouts.request_payout(
                conn,
                application_id=uuid4(),
                citizen_id=citizen_id,
                amount_fen=amount,
                bank_name="b",
                card_no=CARD,
                account_name="n",
                close_account=False,
                actor=APPLICANT,
                at=now(),
                cipher=runtime.cipher,
            )
        return True
    except InsufficientFunds:
        return False
    finally:
        await conn.close()


async def test_twenty_concurrent_withdrawals_of_60_from_100_pay_once(money_runtime: Runtime, db_url: str) -> None:
    async with unit_of_work(money_runtime.pool) as conn:
        citizen_id = await funded_member(conn, 100)
    start = asyncio.Event()
    tasks = [asyncio.create_task(_withdraw(money_runtime, db_url, citizen_id, 60, start)) for _ in range(20)]
    await asyncio.sleep(0.3)
    start.set()
    assert sum(await asyncio.gather(*tasks)) == 1
    async with unit_of_work(money_runtime.pool) as conn:
        assert await conn.fetchval("SELECT balance_fen FROM ledger_accounts WHERE citizen_id = $1", citizen_id) == 40
        assert await conn.fetchval("SELECT count(*) FROM payouts") == 1
        assert await conn.fetchval("SELECT count(*) FROM outbox") == 1
        await assert_ledger_consistent(conn)


async def _snapshot(url: str) -> tuple[int, int]:
    """Total of all balances and the lowest member balance, in one consistent snapshot."""
    conn = await connect(url)
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            total = await conn.fetchval(
                "SELECT coalesce(sum(CASE direction WHEN 'credit' THEN amount_fen ELSE -amount_fen END), 0)"
                " FROM ledger_entries"
            )
            lowest = await conn.fetchval("SELECT coalesce(min(balance_fen), 0) FROM ledger_accounts")
        return total, lowest
    finally:
        await conn.close()


async def test_every_snapshot_conserves_money_while_payouts_run(money_runtime: Runtime, db_url: str) -> None:
    async with unit_of_work(money_runtime.pool) as conn:
        members = [await funded_member(conn, 5_000) for _ in range(5)]
    await faults(money_runtime, latency_ms=5, failure_rate=0.2, timeout_rate=0.2)
    stop = asyncio.Event()
    snapshots: list[tuple[int, int]] = []

    async def watch() -> None:
        while not stop.is_set():
            snapshots.append(await _snapshot(db_url))
            await asyncio.sleep(0.01)

    async def spend(citizen_id: UUID) -> None:
        for i in range(12):
            with contextlib.suppress(InsufficientFunds):
                await request(money_runtime, citizen_id, 400 + i, card_no=CLOSED_CARD if i % 4 == 3 else CARD)

    worker = outbox_worker(money_runtime)

    async def work() -> None:
        while not stop.is_set():
            await worker.run_once()
            await asyncio.sleep(0.01)

    watcher, runner = asyncio.create_task(watch()), asyncio.create_task(work())
    await asyncio.gather(*(spend(m) for m in members))
    await faults(money_runtime)
    for _ in range(200):
        async with unit_of_work(money_runtime.pool) as conn:
            open_ = await conn.fetchval("SELECT count(*) FROM payouts WHERE status NOT IN ('settled', 'reversed')")
        if open_ == 0:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.gather(watcher, runner)
    assert open_ == 0
    assert len(snapshots) > 5
    assert all(total == 0 for total, _ in snapshots)
    assert all(lowest >= 0 for _, lowest in snapshots)
    async with unit_of_work(money_runtime.pool) as conn:
        assert await conn.fetchval("SELECT count(*) FROM ledger_groups WHERE kind = 'reversal'") > 0
        await assert_ledger_consistent(conn)
