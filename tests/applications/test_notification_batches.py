"""Notification deliveries run in batches: one read, one notifier call, one write, one outbox update."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

import haoban.db.pool as pool_module
from haoban.applications.service import NOTIFY_KIND
from haoban.db.pool import create_pool, unit_of_work
from haoban.kit.clock import FrozenClock
from haoban.notifications import service as notifications
from haoban.notifications.ports import Message, NotifierUnavailable
from haoban.outbox.service import enqueue, get
from haoban.outbox.settings import WorkerSettings
from haoban.outbox.worker import Worker
from haoban.root import build_runtime, outbox_batch_handlers, outbox_handlers
from haoban.runtime import Runtime
from haoban.simulators.notifier import SandboxNotifier
from tests.conftest import make_settings

SETTINGS = WorkerSettings(poll_ms=20, batch=50, lease_s=30, backoff_base_ms=1000, backoff_max_s=60)
STATEMENTS: list[str] = []


async def _logged_init(conn: asyncpg.Connection) -> None:
    await _original_init(conn)
    conn.add_query_logger(lambda record: STATEMENTS.append(record.query))


_original_init = pool_module._init_connection


@pytest.fixture
async def runtime(db_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Runtime]:
    """A runtime on a frozen clock with the sandbox notifier; every pooled statement is logged."""
    monkeypatch.setattr(pool_module, "_init_connection", _logged_init)
    settings = make_settings(db_url)
    rt = build_runtime(settings, database_url=db_url, clock=FrozenClock(datetime.now(UTC).replace(microsecond=0)))
    pool = await create_pool(db_url, settings.database)
    rt.attach_pool(pool, notifier=SandboxNotifier(pool, rt.clock, latency_s=0))
    rt.outbox = SETTINGS
    try:
        yield rt
    finally:
        await pool.close()


async def _notifications(runtime: Runtime, n: int, *, prefix: str = "n") -> list[str]:
    """`n` notifications for a new citizen, each with its outbox row, as `_notify` writes them."""
    refs = [f"{prefix}:{i}" for i in range(n)]
    async with unit_of_work(runtime.pool) as conn:
        citizen_id = await conn.fetchval("INSERT INTO citizens DEFAULT VALUES RETURNING id")
        for ref in refs:
            texts = {"title_zh": "标题", "title_en": "Title", "body_zh": ref, "body_en": ref}
            at = runtime.clock.now()
            await notifications.insert_notification(
                conn, citizen_id=citizen_id, reference=ref, application_id=None, status="paid", texts=texts, at=at
            )
            await enqueue(conn, kind=NOTIFY_KIND, ref=ref, payload={"reference": ref}, at=at)
    return refs


async def _messages(runtime: Runtime) -> list[str]:
    async with unit_of_work(runtime.pool) as conn:
        return [r["body"] for r in await conn.fetch("SELECT body FROM sandbox_messages ORDER BY id")]


async def _open_rows(runtime: Runtime) -> int:
    async with unit_of_work(runtime.pool) as conn:
        value: int = await conn.fetchval("SELECT count(*) FROM outbox WHERE done_at IS NULL")
        return value


class CountingNotifier:
    """The sandbox notifier behind a switch: fails while `down`, and counts calls."""

    def __init__(self, inner: SandboxNotifier) -> None:
        self.inner = inner
        self.down = False
        self.batches: list[int] = []

    async def send(self, *, channel: str, recipient: str, body: str) -> None:
        await self.send_many([Message(channel=channel, recipient=recipient, body=body)])

    async def send_many(self, messages: Sequence[Message]) -> None:
        self.batches.append(len(messages))
        if self.down:
            raise NotifierUnavailable("gateway down")
        await self.inner.send_many(messages)


def _counting(runtime: Runtime) -> CountingNotifier:
    assert isinstance(runtime._notifier, SandboxNotifier)
    notifier = CountingNotifier(runtime._notifier)
    runtime._notifier = notifier
    return notifier


async def test_a_batch_of_notifications_is_one_notifier_call_and_every_row_is_done(runtime: Runtime) -> None:
    notifier = _counting(runtime)
    refs = await _notifications(runtime, 12)
    assert await Worker(runtime, SETTINGS, outbox_handlers(), outbox_batch_handlers()).run_once() == 12
    assert notifier.batches == [12]
    assert await _messages(runtime) == [f"标题：{r}" for r in refs]
    assert await _open_rows(runtime) == 0
    async with unit_of_work(runtime.pool) as conn:
        assert await conn.fetchval("SELECT count(*) FROM notifications WHERE delivered_at IS NULL") == 0


async def test_redelivery_of_a_delivered_reference_sends_nothing(runtime: Runtime) -> None:
    notifier = _counting(runtime)
    refs = await _notifications(runtime, 3)
    await Worker(runtime, SETTINGS, outbox_handlers(), outbox_batch_handlers()).drain()
    # The same events again (a worker died after delivering, before marking its rows done).
    await outbox_batch_handlers()[NOTIFY_KIND](runtime, [{"reference": r} for r in refs])
    assert notifier.batches == [3]
    assert len(await _messages(runtime)) == 3


async def test_a_batch_mixing_new_and_delivered_references_sends_only_the_new(runtime: Runtime) -> None:
    old = await _notifications(runtime, 2, prefix="old")
    await Worker(runtime, SETTINGS, outbox_handlers(), outbox_batch_handlers()).drain()
    new = await _notifications(runtime, 2, prefix="new")
    await outbox_batch_handlers()[NOTIFY_KIND](runtime, [{"reference": r} for r in old + new])
    assert await _messages(runtime) == [f"标题：{r}" for r in old + new]


async def test_a_failed_batch_reschedules_every_row_and_later_delivers_each_once(runtime: Runtime) -> None:
    notifier = _counting(runtime)
    notifier.down = True
    refs = await _notifications(runtime, 4)
    worker = Worker(runtime, SETTINGS, outbox_handlers(), outbox_batch_handlers())
    assert await worker.run_once() == 4
    async with unit_of_work(runtime.pool) as conn:
        rows = [await get(conn, kind=NOTIFY_KIND, ref=r) for r in refs]
    for row in rows:
        assert row is not None
        assert row.done_at is None
        assert row.attempts == 1
        assert row.last_error == "NotifierUnavailable: gateway down"
        assert timedelta(seconds=0.5) <= row.available_at - runtime.clock.now() <= timedelta(seconds=1)
    assert await worker.run_once() == 0  # not due yet
    assert await _messages(runtime) == []

    notifier.down = False
    assert isinstance(runtime.clock, FrozenClock)
    runtime.clock.advance(timedelta(seconds=1))
    assert await worker.drain() == 4
    assert notifier.batches == [4, 4]
    assert sorted(await _messages(runtime)) == sorted(f"标题：{r}" for r in refs)
    assert await _open_rows(runtime) == 0
    assert await worker.drain() == 0
    assert len(await _messages(runtime)) == 4


async def test_a_mixed_batch_runs_payouts_one_by_one_and_notifications_together(runtime: Runtime) -> None:
    notifier = _counting(runtime)
    payouts: list[str] = []

    async def send_payout(rt: Runtime, payload: dict[str, Any]) -> None:
        payouts.append(payload["ref"])
        if payload["ref"] == "p1":
            raise ConnectionError("bank down")

    async with unit_of_work(runtime.pool) as conn:
        for ref in ("p0", "p1", "p2"):
            await enqueue(conn, kind="payout.send", ref=ref, payload={"ref": ref}, at=runtime.clock.now())
    await _notifications(runtime, 5)
    worker = Worker(runtime, SETTINGS, {"payout.send": send_payout}, outbox_batch_handlers())
    assert await worker.run_once() == 8
    assert sorted(payouts) == ["p0", "p1", "p2"]
    assert notifier.batches == [5]
    async with unit_of_work(runtime.pool) as conn:
        failed = await get(conn, kind="payout.send", ref="p1")
        done = await get(conn, kind="payout.send", ref="p0")
    assert failed is not None
    assert failed.done_at is None
    assert failed.last_error == "ConnectionError: bank down"
    assert done is not None
    assert done.done_at is not None
    assert await _open_rows(runtime) == 1  # only the failed payout; its failure did not touch the notifications


async def _statements_for_a_batch(runtime: Runtime, n: int, prefix: str) -> list[str]:
    await _notifications(runtime, n, prefix=prefix)
    STATEMENTS.clear()
    assert await Worker(runtime, SETTINGS, outbox_handlers(), outbox_batch_handlers()).run_once() == n
    # asyncpg looks up an array type once per connection (the jit switch and typeinfo query): not ours.
    return [q for q in STATEMENTS if "typeinfo" not in q and "'jit'" not in q]


async def test_a_batch_costs_the_same_few_statements_whatever_its_size(runtime: Runtime) -> None:
    small = await _statements_for_a_batch(runtime, 2, "small")
    large = await _statements_for_a_batch(runtime, 30, "large")
    assert len(await _messages(runtime)) == 32
    # claim (BEGIN, UPDATE, COMMIT), one SELECT, one INSERT, one UPDATE notifications, one UPDATE outbox
    assert len(large) == len(small) == 7, large
