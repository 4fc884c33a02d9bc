"""Which bank the payouts talk to: the HTTP bank, the sandbox bank, or none."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import UUID

import asyncpg

from haoban.kit.clock import Clock
from haoban.payouts.ports import Bank, BankTransfer, BankUnavailable
from haoban.settings import Settings


class NoBank:
    """No bank configured (production without HAOBAN_BANK_URL): fail closed.

    Payouts stay `requested` (the money waits in clearing) and the worker keeps
    retrying with backoff until a bank is configured.
    """

    configured = False

    async def transfer(self, *, payout_id: UUID, card_no: str, account_name: str, amount_fen: int) -> BankTransfer:
        raise BankUnavailable("no bank is configured")

    async def status(self, payout_id: UUID) -> BankTransfer | None:
        raise BankUnavailable("no bank is configured")


@asynccontextmanager
async def open_bank(settings: Settings, pool: asyncpg.Pool, clock: Clock) -> AsyncIterator[Bank]:
    """The configured HTTP bank first; else the sandbox bank in sandbox mode; else NoBank."""
    if settings.bank.base_url:
        from haoban.payouts.http_bank import HttpBank  # noqa: PLC0415 (only when configured)

        http = HttpBank(settings.bank, clock=clock)
        try:
            yield http
        finally:
            await http.aclose()
        return
    if settings.sandbox:
        from haoban.simulators.bank.adapter import SandboxBank  # noqa: PLC0415

        yield SandboxBank(pool, clock)
        return
    yield NoBank()
