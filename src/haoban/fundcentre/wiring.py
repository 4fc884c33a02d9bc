"""Which fund centre a withdrawal posts to: the HTTP one, the sandbox one, or none."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from haoban.fundcentre.ports import FundCentre, NoFundCentre
from haoban.kit.clock import Clock
from haoban.settings import Settings


@asynccontextmanager
async def open_fund_centre(settings: Settings, pool: asyncpg.Pool, clock: Clock) -> AsyncIterator[FundCentre]:
    """The configured HTTP fund centre first; else the sandbox one in sandbox mode; else none (fail closed)."""
    if settings.fund_centre.base_url:
        from haoban.fundcentre.http import HttpFundCentre  # noqa: PLC0415 (only when configured)

        http = HttpFundCentre(settings.fund_centre)
        try:
            yield http
        finally:
            await http.aclose()
        return
    if settings.sandbox:
        from haoban.simulators.fundcentre.adapter import SandboxFundCentre  # noqa: PLC0415

        yield SandboxFundCentre(pool, clock)
        return
    yield NoFundCentre()
