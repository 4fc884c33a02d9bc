"""Open the connections to the source systems and pick an adapter per source."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import msgspec

from haoban.db.pool import create_pool
from haoban.exchange.sources.frontdb import frontdb_sources
from haoban.exchange.sources.ports import Sources
from haoban.kit.clock import Clock
from haoban.settings import DatabaseSettings, Settings


@asynccontextmanager
async def open_sources(settings: Settings, database_url: str, clock: Clock) -> AsyncIterator[Sources]:
    """The front-end database (its own pool), overlaid by HTTP adapters where configured."""
    exchange = settings.exchange
    pool_settings = DatabaseSettings(
        url=exchange.frontdb_url,
        pool_min=0,
        pool_max=exchange.frontdb_pool_max,
        statement_timeout_ms=max(exchange.source_timeout_ms, 1000),
    )
    pool = await create_pool(exchange.frontdb_url or database_url, pool_settings)
    try:
        sources = frontdb_sources(pool)
        if not exchange.http_sources:
            yield sources
            return
        from haoban.exchange.sources.http import http_sources  # noqa: PLC0415

        async with http_sources(exchange, clock, tokens=exchange.http_tokens) as adapters:
            yield msgspec.structs.replace(sources, **adapters)
    finally:
        await pool.close()
