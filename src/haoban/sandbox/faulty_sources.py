"""Sandbox adapters around the exchange sources: slow or failing on a tester's word (/sandbox/sources/faults).

A source re-reads its setting at most every `FAULTS_TTL_S` (at once after this process changed it), so
another worker process sees a change within that and the instant path stays within its statement budget.
A failure is what a real outage gives the caller: `SourceUnavailable("http_error")`.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

import asyncpg
import msgspec

from haoban.exchange.sources.ports import Sources, SourceUnavailable
from haoban.kit.refreshed import Refreshed
from haoban.sandbox import knobs_repository as repo
from haoban.sandbox.schemas import SourceFault

FAULTS_TTL_S = 5.0
READ_TIMEOUT_S = 0.2
SOURCE_NAMES = ("identity", "household", "housing_fund", "estate", "marriage", "social_security")


class FaultySource:
    """One source's adapter, slowed or failed as the sandbox setting says; otherwise it answers as before."""

    def __init__(self, inner: Any, source: str, pool: asyncpg.Pool) -> None:
        self._inner, self._source, self._pool = inner, source, pool
        self._fault: Refreshed[SourceFault] = Refreshed(FAULTS_TTL_S, repo.changes)

    @property
    def inner(self) -> Any:
        """The wrapped adapter (metrics read its breaker)."""
        return self._inner

    async def _read(self) -> SourceFault:
        try:
            # Never hold a request up for a knob: with the pool busy, keep the last setting for a while.
            async with asyncio.timeout(READ_TIMEOUT_S):
                return await repo.source_fault(self._pool, self._source)
        except (TimeoutError, asyncpg.PostgresError, OSError):
            return self._fault.last or SourceFault()

    async def _misbehave(self) -> None:
        fault = await self._fault.get(self._read)
        if fault.latency_ms:
            await asyncio.sleep(fault.latency_ms / 1000)
        if fault.failure_rate and random.random() < fault.failure_rate:  # noqa: S311 - a test fault, not a secret
            raise SourceUnavailable("http_error", f"sandbox fault on {self._source}")

    async def lookup(self, id_number: str) -> Any:
        await self._misbehave()
        return await self._inner.lookup(id_number)

    async def photo(self, id_number: str) -> Any:
        await self._misbehave()
        return await self._inner.photo(id_number)

    async def properties_of(self, id_number: str) -> Any:
        await self._misbehave()
        return await self._inner.properties_of(id_number)


def with_faults(sources: Sources, pool: asyncpg.Pool) -> Sources:
    return msgspec.structs.replace(
        sources, **{name: FaultySource(getattr(sources, name), name, pool) for name in SOURCE_NAMES}
    )
