"""Running money work outside `serve`: `haoban worker` and `haoban payouts reconcile`."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from haoban.db.pool import create_pool
from haoban.fundcentre.wiring import open_fund_centre
from haoban.kit.clock import SystemClock
from haoban.outbox.settings import load_worker_settings
from haoban.outbox.worker import Worker
from haoban.payouts.wiring import open_bank
from haoban.runtime import Runtime, build_runtime
from haoban.settings import Settings
from haoban.simulators.notifier import SandboxNotifier

log = logging.getLogger(__name__)


@asynccontextmanager
async def background_runtime(settings: Settings, url: str) -> AsyncIterator[Runtime]:
    """The parts of the runtime background work needs: pool, bank, fund centre, notifier, worker settings."""
    runtime = build_runtime(settings, database_url=url, clock=SystemClock())
    runtime.outbox = load_worker_settings(os.environ)
    runtime._pool = await create_pool(url, settings.database)
    try:
        if settings.sandbox:
            runtime._notifier = SandboxNotifier(runtime._pool, runtime.clock)
        async with (
            open_bank(settings, runtime._pool, runtime.clock) as bank,
            open_fund_centre(settings, runtime._pool, runtime.clock) as centre,
        ):
            runtime.bank, runtime.fund_centre = bank, centre
            yield runtime
    finally:
        pool, runtime._pool = runtime._pool, None
        await pool.close()


async def run_worker(settings: Settings, url: str, *, once: bool = False) -> int:
    """Poll the outbox until SIGTERM or SIGINT (or, with `once`, until nothing is due)."""
    async with background_runtime(settings, url) as runtime:
        worker = Worker(runtime, runtime.outbox)
        if once:
            return await worker.drain()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        log.info("outbox worker started (poll %d ms, batch %d)", runtime.outbox.poll_ms, runtime.outbox.batch)
        await worker.run(stop)
        log.info("outbox worker stopped")
        return 0
