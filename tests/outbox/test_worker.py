"""The outbox: idempotent enqueue, skip-locked claims, leases, backoff, the worker loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from haoban.db.pool import create_pool, unit_of_work
from haoban.kit.clock import FrozenClock
from haoban.kit.settings_error import SettingsError
from haoban.outbox import repository as repo
from haoban.outbox.service import enqueue, get
from haoban.outbox.settings import WorkerSettings, load_worker_settings
from haoban.outbox.worker import Worker, backoff, running_worker
from haoban.root import build_runtime
from haoban.runtime import Runtime
from tests.conftest import make_settings

SETTINGS = WorkerSettings(poll_ms=20, batch=5, lease_s=30, backoff_base_ms=1000, backoff_max_s=60)


@pytest.fixture
async def runtime(db_url: str) -> AsyncIterator[Runtime]:
    """A runtime on a frozen clock, so leases and backoff are moved by hand."""
    settings = make_settings(db_url)
    clock = FrozenClock(datetime.now(UTC).replace(microsecond=0))
    rt = build_runtime(settings, database_url=db_url, clock=clock)
    rt.attach_pool(await create_pool(db_url, settings.database))
    rt.outbox = SETTINGS
    try:
        yield rt
    finally:
        await rt.pool.close()


def _clock(runtime: Runtime) -> FrozenClock:
    assert isinstance(runtime.clock, FrozenClock)
    return runtime.clock


async def _put(runtime: Runtime, kind: str, ref: str, payload: dict[str, Any] | None = None) -> None:
    async with unit_of_work(runtime.pool) as conn:
        await enqueue(conn, kind=kind, ref=ref, payload=payload or {"ref": ref}, at=runtime.clock.now())


async def test_enqueue_is_idempotent_on_kind_and_ref(runtime: Runtime) -> None:
    await _put(runtime, "k", "1", {"n": 1})
    await _put(runtime, "k", "1", {"n": 2})
    await _put(runtime, "other", "1")
    async with unit_of_work(runtime.pool) as conn:
        assert await conn.fetchval("SELECT count(*) FROM outbox") == 2
        row = await get(conn, kind="k", ref="1")
        assert row is not None
        assert row.payload == {"n": 1}


async def test_an_enqueue_rolled_back_with_its_transaction_never_runs(runtime: Runtime) -> None:
    async def failing_use_case() -> None:
        async with unit_of_work(runtime.pool) as conn:
            await enqueue(conn, kind="k", ref="gone", payload={}, at=runtime.clock.now())
            raise RuntimeError("the use case failed")

    with pytest.raises(RuntimeError):
        await failing_use_case()
    ran: list[str] = []

    async def handler(rt: Runtime, payload: dict[str, Any]) -> None:
        ran.append("x")

    assert await Worker(runtime, SETTINGS, {"k": handler}).run_once() == 0
    assert ran == []


async def test_concurrent_claims_take_disjoint_rows(runtime: Runtime) -> None:
    for i in range(20):
        await _put(runtime, "k", str(i))
    now = runtime.clock.now()

    async def claim() -> list[str]:
        async with unit_of_work(runtime.pool) as conn:
            items = await repo.claim_due(conn, now=now, lease_until=now + timedelta(seconds=30), limit=5)
            await asyncio.sleep(0.05)  # hold the locks while the others claim
            return [i.ref for i in items]

    batches = await asyncio.gather(*(claim() for _ in range(4)))
    refs = [r for b in batches for r in b]
    assert len(refs) == 20
    assert len(set(refs)) == 20


async def test_a_failing_handler_is_retried_with_backoff_and_its_error_kept(runtime: Runtime) -> None:
    calls: list[int] = []

    async def flaky(rt: Runtime, payload: dict[str, Any]) -> None:
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionError(f"down (call {len(calls)})")

    worker = Worker(runtime, SETTINGS, {"k": flaky})
    await _put(runtime, "k", "1")
    assert await worker.run_once() == 1
    async with unit_of_work(runtime.pool) as conn:
        row = await get(conn, kind="k", ref="1")
    assert row is not None
    assert row.done_at is None
    assert row.attempts == 1
    assert row.last_error == "ConnectionError: down (call 1)"
    delay = row.available_at - runtime.clock.now()
    assert timedelta(seconds=0.5) <= delay <= timedelta(seconds=1)
    assert await worker.run_once() == 0  # not due yet
    _clock(runtime).advance(timedelta(seconds=1))
    assert await worker.run_once() == 1
    async with unit_of_work(runtime.pool) as conn:
        row = await get(conn, kind="k", ref="1")
    assert row is not None
    assert row.attempts == 2
    assert timedelta(seconds=1) <= row.available_at - runtime.clock.now() <= timedelta(seconds=2)
    _clock(runtime).advance(timedelta(seconds=2))
    assert await worker.run_once() == 1
    async with unit_of_work(runtime.pool) as conn:
        row = await get(conn, kind="k", ref="1")
    assert row is not None
    assert row.done_at is not None
    assert row.last_error is None
    assert len(calls) == 3


async def test_a_batch_handler_gets_all_rows_of_its_kind_and_a_failure_retries_them_all(runtime: Runtime) -> None:
    calls: list[list[str]] = []
    singles: list[str] = []

    async def batch(rt: Runtime, payloads: list[dict[str, Any]]) -> None:
        calls.append(sorted(p["ref"] for p in payloads))
        if len(calls) == 1:
            raise ConnectionError("down")

    async def single(rt: Runtime, payload: dict[str, Any]) -> None:
        singles.append(payload["ref"])

    worker = Worker(runtime, SETTINGS, {"one": single}, {"many": batch})
    for i in range(3):
        await _put(runtime, "many", str(i))
    await _put(runtime, "one", "x")
    assert await worker.run_once() == 4
    assert calls == [["0", "1", "2"]]
    assert singles == ["x"]
    async with unit_of_work(runtime.pool) as conn:
        rows = [await get(conn, kind="many", ref=str(i)) for i in range(3)]
    for row in rows:
        assert row is not None
        assert row.done_at is None
        assert row.attempts == 1
        assert row.last_error == "ConnectionError: down"
        assert timedelta(seconds=0.5) <= row.available_at - runtime.clock.now() <= timedelta(seconds=1)
    _clock(runtime).advance(timedelta(seconds=1))
    assert await worker.run_once() == 3
    assert calls == [["0", "1", "2"], ["0", "1", "2"]]
    async with unit_of_work(runtime.pool) as conn:
        assert await conn.fetchval("SELECT count(*) FROM outbox WHERE done_at IS NULL") == 0


async def test_a_crashed_workers_rows_come_back_after_the_lease(runtime: Runtime) -> None:
    await _put(runtime, "k", "1")
    now = runtime.clock.now()
    async with unit_of_work(runtime.pool) as conn:  # a worker claims it, then dies
        assert len(await repo.claim_due(conn, now=now, lease_until=now + timedelta(seconds=30), limit=5)) == 1
    ran: list[str] = []

    async def handler(rt: Runtime, payload: dict[str, Any]) -> None:
        ran.append(payload["ref"])

    worker = Worker(runtime, SETTINGS, {"k": handler})
    assert await worker.run_once() == 0
    _clock(runtime).advance(timedelta(seconds=31))
    assert await worker.run_once() == 1
    assert ran == ["1"]


async def test_an_unknown_kind_waits_for_its_handler(runtime: Runtime) -> None:
    await _put(runtime, "nobody.handles", "1")
    assert await Worker(runtime, SETTINGS, {}).run_once() == 1
    async with unit_of_work(runtime.pool) as conn:
        row = await get(conn, kind="nobody.handles", ref="1")
    assert row is not None
    assert row.done_at is None
    assert "no handler" in (row.last_error or "")


async def test_the_background_worker_runs_rows_and_stops(runtime: Runtime) -> None:
    done = asyncio.Event()

    async def handler(rt: Runtime, payload: dict[str, Any]) -> None:
        done.set()

    async with running_worker(runtime, SETTINGS, {"k": handler}) as worker:
        assert worker is not None
        await _put(runtime, "k", "1")
        await asyncio.wait_for(done.wait(), timeout=5)
    async with running_worker(runtime, WorkerSettings(enabled=False), {"k": handler}) as none:
        assert none is None


def test_backoff_doubles_caps_and_jitters() -> None:
    s = WorkerSettings(backoff_base_ms=1000, backoff_max_s=10)
    assert backoff(1, s, jitter=1.0) == timedelta(seconds=1)
    assert backoff(3, s, jitter=1.0) == timedelta(seconds=4)
    assert backoff(50, s, jitter=1.0) == timedelta(seconds=10)
    assert backoff(3, s, jitter=0.5) == timedelta(seconds=2)
    for _ in range(50):
        assert timedelta(seconds=2) <= backoff(3, s) <= timedelta(seconds=4)


def test_worker_settings_come_from_the_environment() -> None:
    s = load_worker_settings({"HAOBAN_OUTBOX_WORKER": "false", "HAOBAN_OUTBOX_POLL_MS": "50"})
    assert not s.enabled
    assert s.poll_ms == 50
    assert load_worker_settings({}).enabled
    with pytest.raises(SettingsError, match="HAOBAN_OUTBOX_POLL_MS"):
        load_worker_settings({"HAOBAN_OUTBOX_POLL_MS": "0"})
    with pytest.raises(SettingsError, match="HAOBAN_OUTBOX_WORKER"):
        load_worker_settings({"HAOBAN_OUTBOX_WORKER": "maybe"})
