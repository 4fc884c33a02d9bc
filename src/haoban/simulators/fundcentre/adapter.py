"""The sandbox fund centre: a `FundCentre` with a book of its own (`sandbox_fund`).

Like another system, every call uses its own pooled connection and transaction,
never the caller's. It debits the account it publishes in the front-end
database, so the next read of the `housing_fund` source (a withdrawal's facts,
`GET /v1/me/housing-fund`) sees the debit at once, and it refuses a debit whose
expected balance is no longer the account's (`balance_changed`).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from haoban.db.pool import unit_of_work
from haoban.fundcentre.ports import DebitAnswer, DebitInstruction, FundCentreUnavailable, PostedDebit
from haoban.kit.clock import Clock
from haoban.simulators.fundcentre import repository as repo

_ERRORS = (asyncpg.PostgresError, OSError, asyncpg.InterfaceError)


class SandboxFundCentre:
    configured = True

    def __init__(self, pool: asyncpg.Pool, clock: Clock) -> None:
        self._pool = pool
        self._clock = clock

    async def debit(self, instruction: DebitInstruction) -> DebitAnswer:
        try:
            for _ in range(2):  # a concurrent twin of the same instruction: ask again, it has answered
                answer = await repo.debit(self._pool, instruction, self._clock.now())
                if answer is not None:
                    return answer
        except _ERRORS as exc:
            raise FundCentreUnavailable(type(exc).__name__) from exc
        raise FundCentreUnavailable("the instruction was being written concurrently")

    async def reverse(self, instruction_id: UUID, *, reason: str) -> DebitAnswer | None:
        try:
            async with unit_of_work(self._pool) as conn:
                return await repo.reverse(conn, instruction_id, self._clock.now())
        except _ERRORS as exc:
            raise FundCentreUnavailable(type(exc).__name__) from exc

    async def debits(self, since: datetime) -> list[PostedDebit]:
        try:
            return await repo.debits(self._pool, since)
        except _ERRORS as exc:
            raise FundCentreUnavailable(type(exc).__name__) from exc

    async def balance(self, account_no: str) -> int | None:
        try:
            return await repo.balance(self._pool, account_no)
        except _ERRORS as exc:
            raise FundCentreUnavailable(type(exc).__name__) from exc
