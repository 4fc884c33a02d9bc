"""Periodic chores of `serve`: reject applications whose supplement deadline passed, prune old idempotency keys
and ended rate-limit windows."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

import asyncpg

from haoban.applications import service as applications
from haoban.db.pool import unit_of_work
from haoban.limits import service as limits
from haoban.materials.service import expire_overdue
from haoban.runtime import Runtime

log = logging.getLogger(__name__)


async def run_once(runtime: Runtime) -> tuple[int, int]:
    """One round; returns (applications rejected for a missed deadline, idempotency keys pruned)."""
    now = runtime.clock.now()
    async with unit_of_work(runtime.pool) as conn:
        rejected = await expire_overdue(conn, now=now)
    async with unit_of_work(runtime.pool) as conn:
        pruned = await applications.prune_keys(conn, now)
    async with unit_of_work(runtime.pool) as conn:
        limit_rows = await limits.prune(conn, now)
    if limit_rows:
        log.debug("housekeeping: %d rate-limit row(s) pruned", limit_rows)
    return len(rejected), pruned


async def _loop(runtime: Runtime, every_s: float, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            rejected, pruned = await run_once(runtime)
            if rejected or pruned:
                log.info("housekeeping: %d application(s) past deadline, %d key(s) pruned", rejected, pruned)
        except (asyncpg.PostgresError, OSError, TimeoutError) as exc:
            log.warning("housekeeping round failed: %s", type(exc).__name__)
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every_s)


@asynccontextmanager
async def running_housekeeping(runtime: Runtime, every_s: float) -> AsyncIterator[None]:
    """Run the chores in the background for the life of the block (the app lifespan); 0 disables them."""
    if every_s <= 0:
        yield
        return
    stop = asyncio.Event()
    task = asyncio.create_task(_loop(runtime, every_s, stop), name="housekeeping")
    try:
        yield
    finally:
        stop.set()
        await asyncio.gather(task, return_exceptions=True)
