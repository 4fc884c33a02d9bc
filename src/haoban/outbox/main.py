"""Running money work outside `serve`: `haoban worker` and `haoban payouts reconcile`.

Part of the composition root (with app.py): it builds the runtime from `Settings`
(`haoban.root`) and hands the worker its handler table.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext

from haoban.db.pool import create_pool
from haoban.fundcentre.wiring import open_fund_centre
from haoban.kit.clock import OffsetClock, SystemClock
from haoban.payouts.wiring import open_bank
from haoban.root import build_runtime, outbox_worker
from haoban.runtime import Runtime
from haoban.sandbox.knobs import following_clock
from haoban.settings import Settings
from haoban.simulators.notifier import SandboxNotifier

log = logging.getLogger(__name__)


@asynccontextmanager
async def background_runtime(settings: Settings, url: str) -> AsyncIterator[Runtime]:
    """The parts of the runtime background work needs: pool, bank, fund centre, notifier, worker settings.

    In sandbox mode the clock follows the sandbox clock a tester moved, as `serve`'s does."""
    sandbox_clock = OffsetClock(SystemClock()) if settings.sandbox else None
    runtime = build_runtime(settings, database_url=url, clock=sandbox_clock or SystemClock())
    pool = await create_pool(url, settings.database)
    runtime.attach_pool(pool, notifier=SandboxNotifier(pool, runtime.clock) if settings.sandbox else None)
    try:
        async with (
            following_clock(sandbox_clock, pool) if sandbox_clock else nullcontext(),
            open_bank(settings, pool, runtime.clock) as bank,
            open_fund_centre(settings, pool, runtime.clock) as centre,
        ):
            runtime.attach(bank=bank, fund_centre=centre)
            yield runtime
    finally:
        runtime.detach()
        await pool.close()


async def run_worker(settings: Settings, url: str, *, once: bool = False) -> int:
    """Poll the outbox until SIGTERM or SIGINT (or, with `once`, until nothing is due)."""
    async with background_runtime(settings, url) as runtime:
        worker = outbox_worker(runtime)
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
