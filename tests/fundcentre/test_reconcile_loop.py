"""`serve` reconciles soon after start and then on its interval, one replica at a time, and logs each difference."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime

import asyncpg
import pytest

from haoban.fundcentre import repository
from haoban.fundcentre.ports import DebitAnswer, DebitInstruction, FundCentre, PostedDebit
from haoban.fundcentre.reconcile import reconcile_once, running_reconciliation
from haoban.kit import events
from haoban.kit.masking import mask_ref
from haoban.outbox.main import background_runtime
from haoban.settings import Settings

Seen = list[tuple[str, dict[str, str]]]


async def _plant(db: asyncpg.Connection) -> uuid.UUID:
    """A debit the fund centre accepted that Haoban never instructed (`not_at_haoban`)."""
    planted = uuid.uuid4()
    await db.execute(
        "INSERT INTO sandbox_fund.debits (instruction_id, account_no, kind, amount_fen, expected_balance_fen, status,"
        " received_at) VALUES ($1, 'ZZ000001', 'rent', 123400, 500000, 'accepted', $2)",
        planted,
        datetime.now(UTC),
    )
    return planted


def _listen(seen: Seen, *, reconciled: int = 0) -> asyncio.Event:
    """Hear this test's domain events; the event is set once `reconciled` runs were reported."""
    enough = asyncio.Event()

    def hear(event: str, fields: Mapping[str, str]) -> None:
        seen.append((event, dict(fields)))
        if reconciled and sum(1 for e, _ in seen if e == "reconciled") >= reconciled:
            enough.set()

    events.listener_var.set(hear)
    return enough


async def test_the_loop_runs_soon_after_start_and_again_naming_a_planted_difference(
    db: asyncpg.Connection, db_url: str, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    planted = await _plant(db)
    seen: Seen = []
    enough = _listen(seen, reconciled=2)
    caplog.set_level(logging.WARNING, logger="haoban.fundcentre")
    async with (
        background_runtime(settings, db_url) as runtime,
        running_reconciliation(runtime, every_s=0.2, first_s=0.05),
    ):
        async with asyncio.timeout(10):
            await enough.wait()  # the first run, then one interval later
    [first, *_] = [f for e, f in seen if e == "reconciled"]
    assert (first["code"], first["differences"]) == ("differences", "1")
    assert (
        "reconcile_difference",
        {"event": "reconcile_difference", "code": "not_at_haoban", "application": mask_ref(planted)},
    ) in seen
    assert any(
        r.getMessage() == "fund-centre difference" and getattr(r, "application_id", None) == str(planted)
        for r in caplog.records
    )


async def test_a_loop_that_is_off_never_runs(db: asyncpg.Connection, db_url: str, settings: Settings) -> None:
    await _plant(db)
    seen: Seen = []
    _listen(seen)
    async with background_runtime(settings, db_url) as runtime, running_reconciliation(runtime, every_s=0, first_s=0):
        await asyncio.sleep(0.2)
    assert [e for e, _ in seen if e.startswith("reconcil")] == []


async def test_a_second_runner_skips_while_another_holds_the_lock(
    db: asyncpg.Connection, db_url: str, settings: Settings
) -> None:
    planted = await _plant(db)
    seen: Seen = []
    _listen(seen)
    async with background_runtime(settings, db_url) as runtime:
        assert await repository.try_reconcile_lock(db)  # another replica's run
        try:
            assert await reconcile_once(runtime) is None
        finally:
            await repository.release_reconcile_lock(db)
        assert [e for e, _ in seen] == []
        report = await reconcile_once(runtime)
    assert report is not None
    assert [(d.kind, d.application_id) for d in report.differences] == [("not_at_haoban", planted)]
    assert [e for e, _ in seen] == ["reconcile_difference", "reconciled"]


class HeldOpen:
    """The fund centre, answering `debits` only once released: a run caught in the middle."""

    configured = True

    def __init__(self, inner: FundCentre) -> None:
        self.inner = inner
        self.asked = asyncio.Event()
        self.release = asyncio.Event()

    async def debit(self, instruction: DebitInstruction) -> DebitAnswer:
        return await self.inner.debit(instruction)

    async def reverse(self, instruction_id: uuid.UUID, *, reason: str) -> DebitAnswer | None:
        return await self.inner.reverse(instruction_id, reason=reason)

    async def debits(self, since: datetime) -> list[PostedDebit]:
        self.asked.set()
        await self.release.wait()
        return await self.inner.debits(since)

    async def balance(self, account_no: str) -> int | None:
        return await self.inner.balance(account_no)


async def test_a_replica_skips_while_another_replicas_run_is_under_way(
    db: asyncpg.Connection, db_url: str, settings: Settings
) -> None:
    planted = await _plant(db)
    async with background_runtime(settings, db_url) as one, background_runtime(settings, db_url) as two:
        held = HeldOpen(one.fund_centre)
        one.attach(fund_centre=held)
        first = asyncio.create_task(reconcile_once(one))
        async with asyncio.timeout(10):
            await held.asked.wait()
        assert await reconcile_once(two) is None
        held.release.set()
        report = await first
        assert report is not None
        assert [(d.kind, d.application_id) for d in report.differences] == [("not_at_haoban", planted)]
        assert await reconcile_once(two) is not None  # the lock is free again
