"""The asyncpg pool and the one unit-of-work helper (a request's transaction, or background work's)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import cast

import asyncpg
import msgspec

from haoban.kit.errors import Unavailable
from haoban.settings import DatabaseSettings

ACQUIRE_TIMEOUT_S = 10.0

Connection = asyncpg.Connection
Pool = asyncpg.Pool


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec(
        "jsonb", encoder=lambda v: msgspec.json.encode(v).decode(), decoder=msgspec.json.decode, schema="pg_catalog"
    )


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Release without asyncpg's reset query (unlock all, CLOSE ALL, UNLISTEN, RESET ALL).

    asyncpg still rolls back any open transaction first. Pooled connections keep
    no session state here: settings come from `server_settings` at connect,
    advisory locks, LISTEN and cursors are never used on them. One round trip
    saved per checkout (a withdrawal makes about twenty).
    """


async def create_pool(url: str, settings: DatabaseSettings) -> asyncpg.Pool:
    return await asyncpg.create_pool(
        url,
        min_size=settings.pool_min,
        max_size=settings.pool_max,
        init=_init_connection,
        reset=_keep_session,
        server_settings={
            "application_name": "haoban",
            "statement_timeout": str(settings.statement_timeout_ms),
            "idle_in_transaction_session_timeout": str(max(settings.statement_timeout_ms * 2, 30_000)),
            "timezone": "UTC",
        },
        command_timeout=settings.statement_timeout_ms / 1000 + 5,
    )


@asynccontextmanager
async def unit_of_work(pool: asyncpg.Pool, *, transaction: bool = True) -> AsyncIterator[asyncpg.Connection]:
    """`async with unit_of_work(pool) as conn:` one pooled connection in one transaction.

    Commits when the block ends, rolls back when it raises. `transaction=False`
    gives the connection without one, so each statement commits on its own (one
    statement that is atomic by itself, or reads that must not hold a snapshot).
    A busy pool is a 503 with Retry-After, never a hang. The request's connection
    (`haoban.deps.provide_conn`, a Litestar generator dependency) is this too.
    """
    try:
        proxy = await pool.acquire(timeout=ACQUIRE_TIMEOUT_S)
    except TimeoutError:
        raise Unavailable("the database is busy; retry shortly", headers={"Retry-After": "1"}) from None
    # The proxy forwards every Connection method; type it as one.
    conn = cast("asyncpg.Connection", proxy)
    try:
        if not transaction:
            yield conn
            return
        async with proxy.transaction():
            yield conn
    finally:
        await pool.release(proxy)


async def connect(url: str) -> asyncpg.Connection:
    """A single connection with the same codecs as the pool (for the CLI)."""
    conn = await asyncpg.connect(url, server_settings={"application_name": "haoban-cli", "timezone": "UTC"})
    await _init_connection(conn)
    return conn
