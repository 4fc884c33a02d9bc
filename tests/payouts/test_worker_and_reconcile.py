"""The outbox worker and `reconcile` finish payouts through bank faults, each exactly once."""

from __future__ import annotations

import asyncio
from uuid import UUID

import pytest

from haoban.db.pool import unit_of_work
from haoban.outbox.worker import Worker
from haoban.payouts import service as payouts
from haoban.payouts import settlement
from haoban.payouts.ports import BankTimeout, BankUnavailable
from haoban.payouts.reconcile import reconcile, summary
from haoban.root import outbox_worker
from haoban.runtime import Runtime
from tests.payouts.money import (
    CLOSED_CARD,
    assert_ledger_consistent,
    faults,
    funded_member,
    money_runtime,
    request,
)

__all__ = ["money_runtime"]


async def _member(runtime: Runtime, balance: int) -> UUID:
    async with unit_of_work(runtime.pool) as conn:
        return await funded_member(conn, balance)


async def _statuses(runtime: Runtime, ids: list[UUID]) -> list[str]:
    async with unit_of_work(runtime.pool) as conn:
        out: list[str] = []
        for payout_id in ids:
            found = await payouts.get(conn, payout_id)
            assert found is not None
            out.append(found.status)
        return out


async def _assert_each_received_at_most_once(runtime: Runtime) -> None:
    async with unit_of_work(runtime.pool) as conn:
        dupes = await conn.fetchval(
            "SELECT count(*) FROM (SELECT payout_id FROM sandbox_bank.transfers GROUP BY payout_id"
            " HAVING count(*) > 1) d"
        )
        assert dupes == 0
        settled_without_bank = await conn.fetchval(
            "SELECT count(*) FROM payouts p WHERE p.status = 'settled' AND NOT EXISTS"
            " (SELECT 1 FROM sandbox_bank.transfers t WHERE t.payout_id = p.id AND t.status = 'settled')"
        )
        assert settled_without_bank == 0
        await assert_ledger_consistent(conn)


async def _run_until_final(worker: Worker, runtime: Runtime, ids: list[UUID], rounds: int = 400) -> list[str]:
    for _ in range(rounds):
        await worker.run_once()
        statuses = await _statuses(runtime, ids)
        if all(s in ("settled", "reversed") for s in statuses):
            return statuses
        await asyncio.sleep(0.02)
    pytest.fail(f"payouts not final: {statuses}")


async def test_the_worker_retries_refusals_and_timeouts_until_settled(money_runtime: Runtime) -> None:
    citizen_id = await _member(money_runtime, 1_000_000)
    ids = [(await request(money_runtime, citizen_id, 1_000 + i)).payout_id for i in range(30)]
    ids.append((await request(money_runtime, citizen_id, 500, card_no=CLOSED_CARD)).payout_id)
    await faults(money_runtime, latency_ms=10, failure_rate=0.3, timeout_rate=0.3)
    worker = outbox_worker(money_runtime)
    await worker.run_once()
    await faults(money_runtime, latency_ms=10, failure_rate=0.2, timeout_rate=0.2)
    statuses = await _run_until_final(worker, money_runtime, ids)
    assert statuses.count("settled") == 30
    assert statuses[-1] == "reversed"
    async with unit_of_work(money_runtime.pool) as conn:
        retried = await conn.fetchval("SELECT count(*) FROM outbox WHERE attempts > 1")
        assert retried > 0  # the faults did bite
        assert await conn.fetchval("SELECT count(*) FROM outbox WHERE done_at IS NULL") == 0
    await _assert_each_received_at_most_once(money_runtime)


async def test_reconcile_finishes_every_open_payout_by_asking_the_bank(money_runtime: Runtime) -> None:
    citizen_id = await _member(money_runtime, 100_000)
    never_sent = await request(money_runtime, citizen_id, 1_000)
    refused = await request(money_runtime, citizen_id, 2_000)
    booked = await request(money_runtime, citizen_id, 3_000)
    closed = await request(money_runtime, citizen_id, 4_000, card_no=CLOSED_CARD)

    await faults(money_runtime, failure_rate=1.0)
    with pytest.raises(BankUnavailable):
        await settlement.attempt(money_runtime, refused.payout_id)
    await faults(money_runtime, timeout_rate=1.0)
    for _ in range(30):  # until a timeout lands after booking
        with pytest.raises(BankTimeout):
            await settlement.attempt(money_runtime, booked.payout_id)
        if await money_runtime.bank.status(booked.payout_id) is not None:
            break
    assert await money_runtime.bank.status(booked.payout_id) is not None
    await faults(money_runtime)

    report = await reconcile(money_runtime)
    assert report.checked == 4
    assert (report.settled, report.reversed, report.still_open, report.unbalanced_groups) == (3, 1, 0, 0)
    assert report.resent == 1  # only `refused`: the bank had no record of it
    assert "3 settled" in summary(report)
    statuses = await _statuses(
        money_runtime, [never_sent.payout_id, refused.payout_id, booked.payout_id, closed.payout_id]
    )
    assert statuses == ["settled", "settled", "settled", "reversed"]
    assert (await reconcile(money_runtime)).checked == 0
    await _assert_each_received_at_most_once(money_runtime)


async def test_reconcile_leaves_payouts_open_while_the_bank_is_down(money_runtime: Runtime) -> None:
    citizen_id = await _member(money_runtime, 10_000)
    view = await request(money_runtime, citizen_id, 1_000)
    await faults(money_runtime, failure_rate=1.0)
    report = await reconcile(money_runtime)
    assert (report.checked, report.still_open) == (1, 1)
    assert await _statuses(money_runtime, [view.payout_id]) == ["sent"]
