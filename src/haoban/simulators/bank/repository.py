"""SQL for the sandbox bank (schema `sandbox_bank`): another system's tables."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from haoban.kit.refreshed import ChangeCounter
from haoban.payouts.schemas import BankFaults, SandboxTransfer


async def faults(db: asyncpg.Pool | asyncpg.Connection) -> BankFaults:
    row = await db.fetchrow("SELECT latency_ms, failure_rate, timeout_rate FROM sandbox_bank.faults WHERE id")
    return BankFaults(**dict(row)) if row else BankFaults()


changes = ChangeCounter()  # fault changes made by this process: its sandbox banks re-read them at once


async def set_faults(db: asyncpg.Pool | asyncpg.Connection, value: BankFaults, at: datetime) -> None:
    changes.bump()
    await db.execute(
        "INSERT INTO sandbox_bank.faults (id, latency_ms, failure_rate, timeout_rate, updated_at)"
        " VALUES (true, $1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET latency_ms = EXCLUDED.latency_ms,"
        " failure_rate = EXCLUDED.failure_rate, timeout_rate = EXCLUDED.timeout_rate, updated_at = EXCLUDED.updated_at",
        value.latency_ms,
        value.failure_rate,
        value.timeout_rate,
        at,
    )


async def apply_transfer(
    db: asyncpg.Pool | asyncpg.Connection,
    *,
    payout_id: UUID,
    bank_ref: str,
    card_no: str,
    account_name: str,
    amount_fen: int,
    status: str,
    failure_reason: str | None,
    at: datetime,
) -> SandboxTransfer:
    """Record a transfer once per payout id; a repeat returns the first record unchanged."""
    row = await db.fetchrow(
        "INSERT INTO sandbox_bank.transfers"
        " (payout_id, bank_ref, card_no, account_name, amount_fen, status, failure_reason, received_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (payout_id) DO NOTHING"
        " RETURNING payout_id, bank_ref, card_no, account_name, amount_fen, status, failure_reason, received_at",
        payout_id,
        bank_ref,
        card_no,
        account_name,
        amount_fen,
        status,
        failure_reason,
        at,
    )
    if row is None:
        # A later statement, so it sees the row a concurrent call committed.
        existing = await get(db, payout_id)
        assert existing is not None  # noqa: S101 (the conflict proves it exists)
        return existing
    return SandboxTransfer(**dict(row))


async def get(db: asyncpg.Pool | asyncpg.Connection, payout_id: UUID) -> SandboxTransfer | None:
    row = await db.fetchrow(
        "SELECT payout_id, bank_ref, card_no, account_name, amount_fen, status, failure_reason, received_at"
        " FROM sandbox_bank.transfers WHERE payout_id = $1",
        payout_id,
    )
    return SandboxTransfer(**dict(row)) if row else None


async def for_card(db: asyncpg.Pool | asyncpg.Connection, card_no: str, limit: int) -> list[SandboxTransfer]:
    rows = await db.fetch(
        "SELECT payout_id, bank_ref, card_no, account_name, amount_fen, status, failure_reason, received_at"
        " FROM sandbox_bank.transfers WHERE card_no = $1 ORDER BY id DESC LIMIT $2",
        card_no,
        limit,
    )
    return [SandboxTransfer(**dict(r)) for r in rows]
