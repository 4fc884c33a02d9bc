"""The sandbox bank: a `Bank` whose books are the `sandbox_bank` schema.

It behaves like another system: every call uses its own pool connection and
transaction (never the caller's), a transfer is idempotent on the payout id,
and testers turn its fault knobs (`POST /sandbox/bank/faults`; another process's
change takes effect within a second, this process's at once):

- latency_ms: each call takes this long (half before the bank books the
  transfer, half after, so a crash can land on either side);
- failure_rate: the bank refuses the call before booking anything
  (BankUnavailable, transient);
- timeout_rate: the call times out after the latency; half of these had
  booked the transfer first (BankTimeout, outcome unknown).

A card number ending in 0000 is a closed card: a permanent `failed` answer.
"""

from __future__ import annotations

import asyncio
import random
import secrets
from uuid import UUID

import asyncpg

from haoban.kit.clock import Clock
from haoban.kit.refreshed import Refreshed
from haoban.payouts.ports import BankTimeout, BankTransfer, BankUnavailable
from haoban.payouts.schemas import BankFaults, SandboxTransfer
from haoban.simulators.bank import repository as repo

CLOSED_CARD_SUFFIX = "0000"
FAULTS_TTL_S = 1.0  # fault knobs set by another process take effect within this


def _answer(t: SandboxTransfer) -> BankTransfer:
    return BankTransfer(
        payout_id=t.payout_id,
        card_no=t.card_no,
        amount_fen=t.amount_fen,
        status=t.status,
        failure_reason=t.failure_reason,
        bank_ref=t.bank_ref,
    )


class SandboxBank:
    configured = True

    def __init__(self, pool: asyncpg.Pool, clock: Clock, *, rng: random.Random | None = None) -> None:
        self._pool = pool
        self._clock = clock
        self._rng = rng or random.Random()  # noqa: S311 (fault injection, not security)
        self._faults: Refreshed[BankFaults] = Refreshed(FAULTS_TTL_S, repo.changes)

    async def _current_faults(self) -> BankFaults:
        """The knobs, read at most once a second; at once after this process changed them."""
        return await self._faults.get(lambda: repo.faults(self._pool))

    async def transfer(self, *, payout_id: UUID, card_no: str, account_name: str, amount_fen: int) -> BankTransfer:
        try:
            faults = await self._current_faults()
        except (asyncpg.PostgresError, OSError) as exc:
            raise BankUnavailable(type(exc).__name__) from exc
        half = faults.latency_ms / 2000
        await asyncio.sleep(half)
        roll = self._rng.random()
        if roll < faults.failure_rate:
            raise BankUnavailable("sandbox bank refused the call (failure_rate)")
        timing_out = roll < faults.failure_rate + faults.timeout_rate
        if timing_out and self._rng.random() < 0.5:
            await asyncio.sleep(half)
            raise BankTimeout("sandbox bank timed out before booking (timeout_rate)")
        closed = card_no.endswith(CLOSED_CARD_SUFFIX)
        try:
            booked = await repo.apply_transfer(
                self._pool,
                payout_id=payout_id,
                bank_ref="SBX" + secrets.token_hex(8).upper(),
                card_no=card_no,
                account_name=account_name,
                amount_fen=amount_fen,
                status="failed" if closed else "settled",
                failure_reason="card_closed" if closed else None,
                at=self._clock.now(),
            )
        except (asyncpg.PostgresError, OSError) as exc:
            raise BankTimeout(type(exc).__name__) from exc  # it may have committed
        await asyncio.sleep(half)
        if timing_out:
            raise BankTimeout("sandbox bank timed out after booking (timeout_rate)")
        return _answer(booked)

    async def status(self, payout_id: UUID) -> BankTransfer | None:
        try:
            faults = await self._current_faults()
            await asyncio.sleep(faults.latency_ms / 2000)
            found = await repo.get(self._pool, payout_id)
        except (asyncpg.PostgresError, OSError) as exc:
            raise BankUnavailable(type(exc).__name__) from exc
        return _answer(found) if found else None
