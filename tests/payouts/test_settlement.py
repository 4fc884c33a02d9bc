"""Sending payouts to the sandbox bank: settle, reverse, unknown outcomes, the budget."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Literal
from uuid import UUID

import asyncpg
import pytest

from haoban.audit import service as audit
from haoban.db.batch import Batch
from haoban.db.pool import unit_of_work
from haoban.db.sql import Cte, Template
from haoban.ledger import service as ledger
from haoban.ledger.rules import CLEARING, SETTLEMENT
from haoban.ledger.service import AccountClosed
from haoban.outbox import service as outbox
from haoban.payouts import service as payouts
from haoban.payouts import settlement
from haoban.payouts.ports import BankTimeout, BankTransfer, BankUnavailable
from haoban.payouts.wiring import NoBank
from haoban.runtime import Runtime
from haoban.simulators.bank.adapter import SandboxBank
from tests.payouts.money import (
    CLOSED_CARD,
    assert_ledger_consistent,
    faults,
    funded_member,
    money_runtime,
    request,
)

__all__ = ["money_runtime"]


HEARD = Template(
    "SELECT 'system' AS actor_type, 'test' AS actor_id, 'test.heard.settled' AS action, 'payout' AS subject_type,"
    " {payouts.id}::text AS subject_id, '{{}}'::jsonb AS details, 1 AS n FROM {payouts}"
)


class CountingBank:
    """The sandbox bank, counting calls (the bank is a port; our database is never mocked)."""

    def __init__(self, inner: SandboxBank) -> None:
        self.inner = inner
        self.transfers: list[UUID] = []
        self.lookups: list[UUID] = []

    async def transfer(self, *, payout_id: UUID, card_no: str, account_name: str, amount_fen: int) -> BankTransfer:
        self.transfers.append(payout_id)
        return await self.inner.transfer(
            payout_id=payout_id, card_no=card_no, account_name=account_name, amount_fen=amount_fen
        )

    async def status(self, payout_id: UUID) -> BankTransfer | None:
        self.lookups.append(payout_id)
        return await self.inner.status(payout_id)


class RecordingListener:
    def __init__(self) -> None:
        self.calls: list[tuple[UUID, str, str | None, bool]] = []

    async def payout_final(
        self,
        conn: asyncpg.Connection,
        *,
        application_id: UUID,
        payout_id: UUID,
        status: Literal["settled", "reversed"],
        reason: str | None,
        at: datetime,
    ) -> None:
        self.calls.append((payout_id, status, reason, conn.is_in_transaction()))

    def add_settled(self, b: Batch, prefix: str, *, payouts: Cte, at: datetime) -> None:
        """Heard inside the settling statement itself: one marker row per payout it settled."""
        rows = b.cte(f"{prefix}_rows", b.sql(HEARD, payouts=payouts), audit.ROW_COLUMNS)
        audit.add_rows(b, prefix, rows, at=at)

    async def settled(self, runtime: Runtime) -> list[UUID]:
        async with unit_of_work(runtime.pool) as conn:
            rows = await conn.fetch(
                "SELECT subject_id FROM audit_events WHERE action = 'test.heard.settled' ORDER BY id"
            )
        return [UUID(r["subject_id"]) for r in rows]


async def _member(runtime: Runtime, balance: int) -> UUID:
    async with unit_of_work(runtime.pool) as conn:
        return await funded_member(conn, balance)


async def _bank_rows(runtime: Runtime, payout_id: UUID) -> int:
    async with unit_of_work(runtime.pool) as conn:
        count: int = await conn.fetchval("SELECT count(*) FROM sandbox_bank.transfers WHERE payout_id = $1", payout_id)
        return count


async def test_settle_within_pays_and_books_clearing_to_settlement(money_runtime: Runtime) -> None:
    listener = RecordingListener()
    money_runtime.payout_listener = listener
    citizen_id = await _member(money_runtime, 80_000)
    view = await request(money_runtime, citizen_id, 30_000)
    settled = await payouts.settle_within(money_runtime, view.payout_id, 2.0)
    assert settled.status == "settled"
    assert await listener.settled(money_runtime) == [view.payout_id]
    assert listener.calls == []
    assert await _bank_rows(money_runtime, view.payout_id) == 1
    async with unit_of_work(money_runtime.pool) as conn:
        assert await ledger.account_balance(conn, CLEARING) == 0
        assert await ledger.account_balance(conn, SETTLEMENT) == 30_000
        assert await ledger.member_balance(conn, citizen_id) == 50_000
        row = await outbox.get(conn, kind="payout.send", ref=str(view.payout_id))
        assert row is not None
        assert row.done_at is not None
        events = await payouts.events(conn, view.payout_id)
        assert [e.to_status for e in events] == ["requested", "sent", "settled"]
        await assert_ledger_consistent(conn)


async def test_a_closed_card_fails_permanently_and_the_money_comes_back(money_runtime: Runtime) -> None:
    listener = RecordingListener()
    money_runtime.payout_listener = listener
    citizen_id = await _member(money_runtime, 10_000)
    view = await request(money_runtime, citizen_id, 10_000, card_no=CLOSED_CARD)
    done = await payouts.settle_within(money_runtime, view.payout_id, 2.0)
    assert done.status == "reversed"
    assert done.failure_reason == "card_closed"
    assert listener.calls == [(view.payout_id, "reversed", "card_closed", True)]
    async with unit_of_work(money_runtime.pool) as conn:
        assert await ledger.member_balance(conn, citizen_id) == 10_000
        assert await ledger.account_balance(conn, CLEARING) == 0
        events = await payouts.events(conn, view.payout_id)
        assert [(e.to_status, e.reason) for e in events] == [
            ("requested", None),
            ("sent", None),
            ("failed", "card_closed"),
            ("reversed", "card_closed"),
        ]
        groups = await conn.fetch("SELECT kind FROM ledger_groups WHERE ref = $1 ORDER BY id", str(view.payout_id))
        assert [g["kind"] for g in groups] == ["payout", "reversal"]
        await assert_ledger_consistent(conn)


async def test_retirement_closes_the_account_after_the_full_payout(money_runtime: Runtime) -> None:
    citizen_id = await _member(money_runtime, 7_777)
    view = await request(money_runtime, citizen_id, 7_777, close_account=True)
    assert (await payouts.settle_within(money_runtime, view.payout_id, 2.0)).status == "settled"
    async with unit_of_work(money_runtime.pool) as conn:
        account = await ledger.member(conn, citizen_id)
        assert account is not None
        assert account.closed_at is not None
        assert account.balance_fen == 0
    with pytest.raises(AccountClosed):
        await request(money_runtime, citizen_id, 1)


async def test_the_sandbox_bank_is_idempotent_on_the_payout_id(money_runtime: Runtime) -> None:
    citizen_id = await _member(money_runtime, 5_000)
    view = await request(money_runtime, citizen_id, 5_000)
    bank = money_runtime.bank
    first = await bank.transfer(
        payout_id=view.payout_id, card_no="6222020200112233445", account_name="a", amount_fen=5_000
    )
    again = await bank.transfer(
        payout_id=view.payout_id, card_no="6222020200112233445", account_name="a", amount_fen=5_000
    )
    assert first == again
    assert await _bank_rows(money_runtime, view.payout_id) == 1
    assert await bank.status(view.payout_id) == first


async def test_a_timeout_after_booking_is_settled_by_asking_not_by_sending_again(money_runtime: Runtime) -> None:
    counting = CountingBank(SandboxBank(money_runtime.pool, money_runtime.clock))
    money_runtime.bank = counting
    citizen_id = await _member(money_runtime, 9_000)
    view = await request(money_runtime, citizen_id, 9_000)
    await faults(money_runtime, timeout_rate=1.0)
    booked = False
    for _ in range(20):  # half of the timeouts happen after booking
        with pytest.raises(BankTimeout):
            await settlement.attempt(money_runtime, view.payout_id)
        if await _bank_rows(money_runtime, view.payout_id):
            booked = True
            break
    assert booked
    transfers_before = len(counting.transfers)
    await faults(money_runtime)
    result = await settlement.attempt(money_runtime, view.payout_id)
    assert result.outcome == "settled"
    assert result.asked_status
    assert not result.resent
    assert len(counting.transfers) == transfers_before  # looked up, never sent again
    assert await _bank_rows(money_runtime, view.payout_id) == 1
    async with unit_of_work(money_runtime.pool) as conn:
        await assert_ledger_consistent(conn)


async def test_an_unknown_outcome_the_bank_never_got_is_sent_again_with_the_same_id(money_runtime: Runtime) -> None:
    counting = CountingBank(SandboxBank(money_runtime.pool, money_runtime.clock))
    money_runtime.bank = counting
    citizen_id = await _member(money_runtime, 9_000)
    view = await request(money_runtime, citizen_id, 9_000)
    await faults(money_runtime, failure_rate=1.0)  # refused before booking
    with pytest.raises(BankUnavailable):
        await settlement.attempt(money_runtime, view.payout_id)
    await faults(money_runtime)
    result = await settlement.attempt(money_runtime, view.payout_id)
    assert result.outcome == "settled"
    assert result.asked_status
    assert result.resent
    assert set(counting.transfers) == {view.payout_id}
    assert await _bank_rows(money_runtime, view.payout_id) == 1


async def test_a_slow_bank_returns_sent_within_the_budget_and_finishes_later(money_runtime: Runtime) -> None:
    citizen_id = await _member(money_runtime, 9_000)
    view = await request(money_runtime, citizen_id, 9_000)
    await faults(money_runtime, latency_ms=600)
    started = time.monotonic()
    early = await payouts.settle_within(money_runtime, view.payout_id, 0.2)
    assert time.monotonic() - started < 0.5
    assert early.status == "sent"
    for _ in range(100):
        await asyncio.sleep(0.05)
        async with unit_of_work(money_runtime.pool) as conn:
            current = await payouts.get(conn, view.payout_id)
        if current is not None and current.status == "settled":
            break
    assert current is not None
    assert current.status == "settled"
    assert await _bank_rows(money_runtime, view.payout_id) == 1


async def test_without_a_bank_payouts_stay_requested(money_runtime: Runtime) -> None:
    money_runtime.bank = NoBank()
    citizen_id = await _member(money_runtime, 9_000)
    view = await request(money_runtime, citizen_id, 9_000)
    after = await payouts.settle_within(money_runtime, view.payout_id, 0.3)
    assert after.status == "requested"
    async with unit_of_work(money_runtime.pool) as conn:
        row = await outbox.get(conn, kind="payout.send", ref=str(view.payout_id))
        assert row is not None
        assert row.done_at is None
        assert "no bank" in (row.last_error or "")
        assert await ledger.member_balance(conn, citizen_id) == 0  # held in clearing, not lost


class LyingBank:
    """Answers with another amount: the payout must not settle on it."""

    async def transfer(self, *, payout_id: UUID, card_no: str, account_name: str, amount_fen: int) -> BankTransfer:
        return BankTransfer(
            payout_id=payout_id,
            card_no=card_no,
            amount_fen=amount_fen + 1,
            status="settled",
            failure_reason=None,
            bank_ref="X",
        )

    async def status(self, payout_id: UUID) -> BankTransfer | None:
        return None


async def test_an_answer_that_does_not_match_the_payout_never_settles_it(money_runtime: Runtime) -> None:
    money_runtime.bank = LyingBank()
    citizen_id = await _member(money_runtime, 9_000)
    view = await request(money_runtime, citizen_id, 9_000)
    with pytest.raises(settlement.BankMismatch):
        await settlement.attempt(money_runtime, view.payout_id)
    async with unit_of_work(money_runtime.pool) as conn:
        current = await payouts.get(conn, view.payout_id)
        assert current is not None
        assert current.status == "sent"
        assert await ledger.account_balance(conn, SETTLEMENT) == 0
