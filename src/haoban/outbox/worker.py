"""The outbox worker: claim due rows, run their handlers after commit, retry with backoff.

A claim is a short transaction that pushes the rows' `available_at` out by the
lease, so a worker that dies mid-way leaves its rows to be picked up again
after the lease; handlers therefore must be safe to run twice. Several workers
(processes or `serve` workers) can run at once: `FOR UPDATE SKIP LOCKED` keeps
them off each other's rows.

The worker runs only the kinds it is handed: the composition root builds the
table (`haoban.root.outbox_handlers`), so the outbox knows no other slice.
Kinds with a batch handler (`root.outbox_batch_handlers()`, e.g. notifications) get
all their claimed rows of a round in one call and are marked done with one
statement; a failure reschedules every row of that call. Other kinds (the bank)
run one row per call.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager, suppress
from datetime import timedelta
from typing import TYPE_CHECKING

import asyncpg

from haoban.db.pool import unit_of_work
from haoban.outbox import repository as repo
from haoban.outbox.repository import OutboxItem
from haoban.outbox.service import BatchHandler, Handler
from haoban.outbox.settings import WorkerSettings

if TYPE_CHECKING:
    from haoban.runtime import Runtime

log = logging.getLogger(__name__)
_rng = random.SystemRandom()


def backoff(attempts: int, settings: WorkerSettings, *, jitter: float | None = None) -> timedelta:
    """Exponential backoff with jitter: base * 2^(attempts-1), capped, times 0.5..1."""
    delay = min(settings.backoff_base_ms / 1000 * 2 ** min(max(attempts - 1, 0), 30), settings.backoff_max_s)
    factor = _rng.uniform(0.5, 1.0) if jitter is None else jitter
    return timedelta(seconds=delay * factor)


async def run_item(
    runtime: Runtime, item: OutboxItem, handlers: Mapping[str, Handler], settings: WorkerSettings
) -> bool:
    """Run one claimed row; mark it done, or reschedule it with the error. True when done."""
    handler = handlers.get(item.kind)
    try:
        if handler is None:
            raise LookupError(f"no handler for outbox kind {item.kind!r}")
        await handler(runtime, item.payload)
    except Exception as exc:  # noqa: BLE001 (any failure means: retry later)
        retry_at = runtime.clock.now() + backoff(item.attempts, settings)
        log.warning(
            "outbox %s %s attempt %d failed: %s; retry at %s",
            item.kind,
            item.ref,
            item.attempts,
            type(exc).__name__,
            retry_at.isoformat(),
        )
        await repo.reschedule(runtime.pool, item.id, available_at=retry_at, error=f"{type(exc).__name__}: {exc}")
        return False
    await repo.mark_done(runtime.pool, item.id, runtime.clock.now())
    return True


async def run_batch(
    runtime: Runtime, kind: str, items: list[OutboxItem], handler: BatchHandler, settings: WorkerSettings
) -> bool:
    """Run claimed rows of one kind in one call; mark all done, or reschedule each with the error. True when done."""
    try:
        await handler(runtime, [i.payload for i in items])
    except Exception as exc:  # noqa: BLE001 (any failure means: retry the whole batch later)
        error = f"{type(exc).__name__}: {exc}"
        log.warning("outbox %s batch of %d failed: %s; rescheduled with backoff", kind, len(items), type(exc).__name__)
        now = runtime.clock.now()
        for item in items:
            retry_at = now + backoff(item.attempts, settings)
            await repo.reschedule(runtime.pool, item.id, available_at=retry_at, error=error)
        return False
    await repo.mark_done_many(runtime.pool, [i.id for i in items], runtime.clock.now())
    return True


async def claim_one(runtime: Runtime, *, kind: str, ref: str, settings: WorkerSettings) -> OutboxItem | None:
    """Claim one named row now (used to run a payout within the request instead of waiting for the worker)."""
    now = runtime.clock.now()
    async with unit_of_work(runtime.pool, transaction=False) as conn:  # one statement: its own transaction
        return await repo.claim_one(
            conn, kind=kind, ref=ref, now=now, lease_until=now + timedelta(seconds=settings.lease_s)
        )


class Worker:
    def __init__(
        self,
        runtime: Runtime,
        settings: WorkerSettings,
        handlers: Mapping[str, Handler],
        batch_handlers: Mapping[str, BatchHandler] | None = None,
    ) -> None:
        """Runs the kinds in `handlers`, and those in `batch_handlers` a round's rows at a time."""
        self.runtime = runtime
        self.settings = settings
        self.handlers = dict(handlers)
        self.batch_handlers = dict(batch_handlers or {})

    async def run_once(self) -> int:
        """Claim one batch and run it; returns how many rows were claimed."""
        now = self.runtime.clock.now()
        async with unit_of_work(self.runtime.pool) as conn:
            items = await repo.claim_due(
                conn, now=now, lease_until=now + timedelta(seconds=self.settings.lease_s), limit=self.settings.batch
            )
        # The transaction is over: handlers talk to the bank without holding a connection.
        singles: list[OutboxItem] = []
        batches: dict[str, list[OutboxItem]] = {}
        for item in items:
            if item.kind in self.batch_handlers:
                batches.setdefault(item.kind, []).append(item)
            else:
                singles.append(item)
        await asyncio.gather(
            *(run_item(self.runtime, i, self.handlers, self.settings) for i in singles),
            *(run_batch(self.runtime, k, b, self.batch_handlers[k], self.settings) for k, b in batches.items()),
        )
        return len(items)

    async def drain(self, *, max_rounds: int = 100) -> int:
        """Run until nothing is due (tests, `haoban worker --once`)."""
        total = 0
        for _ in range(max_rounds):
            n = await self.run_once()
            if n == 0:
                break
            total += n
        return total

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until `stop` is set; a full batch polls again at once."""
        while not stop.is_set():
            try:
                n = await self.run_once()
            except (asyncpg.PostgresError, OSError, TimeoutError) as exc:
                log.warning("outbox worker poll failed: %s", type(exc).__name__)
                n = 0
            except Exception:  # the loop must outlive one bad round
                log.exception("outbox worker round failed")
                n = 0
            if n >= self.settings.batch:
                continue
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.settings.poll_ms / 1000)


@asynccontextmanager
async def running_worker(
    runtime: Runtime,
    settings: WorkerSettings,
    handlers: Mapping[str, Handler],
    batch_handlers: Mapping[str, BatchHandler] | None = None,
) -> AsyncIterator[Worker | None]:
    """Run the worker in the background for the life of the block (the app lifespan)."""
    if not settings.enabled:
        yield None
        return
    worker = Worker(runtime, settings, handlers, batch_handlers)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop), name="outbox-worker")
    try:
        yield worker
    finally:
        stop.set()
        try:
            await asyncio.wait_for(task, timeout=10)
        except TimeoutError:
            log.warning("outbox worker did not stop in time; its rows are picked up after the lease")
