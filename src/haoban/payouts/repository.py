"""SQL for payout orders and their events."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

from haoban.audit.schemas import Actor
from haoban.payouts.schemas import PayoutEvent, PayoutStatus


class PayoutRow(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    application_id: UUID
    citizen_id: UUID
    amount_fen: int
    status: PayoutStatus
    bank_name: str
    card_enc: str
    card_masked: str
    account_name_enc: str
    close_account: bool
    attempts: int
    bank_ref: str | None
    failure_reason: str | None


_SELECT = (
    "SELECT id, application_id, citizen_id, amount_fen, status, bank_name, card_enc, card_masked,"
    " account_name_enc, close_account, attempts, bank_ref, failure_reason FROM payouts WHERE id = $1"
)
_SELECT_LOCKED = (
    "SELECT id, application_id, citizen_id, amount_fen, status, bank_name, card_enc, card_masked,"
    " account_name_enc, close_account, attempts, bank_ref, failure_reason FROM payouts WHERE id = $1 FOR UPDATE"
)


async def insert(
    conn: asyncpg.Connection,
    *,
    payout_id: UUID,
    application_id: UUID,
    citizen_id: UUID,
    amount_fen: int,
    bank_name: str,
    card_enc: str,
    card_masked: str,
    account_name_enc: str,
    close_account: bool,
    at: datetime,
) -> bool:
    """False when the application already has a payout."""
    row = await conn.fetchrow(
        "INSERT INTO payouts (id, application_id, citizen_id, amount_fen, status, bank_name, card_enc, card_masked,"
        " account_name_enc, close_account, created_at, updated_at)"
        " VALUES ($1, $2, $3, $4, 'requested', $5, $6, $7, $8, $9, $10, $10)"
        " ON CONFLICT (application_id) DO NOTHING RETURNING id",
        payout_id,
        application_id,
        citizen_id,
        amount_fen,
        bank_name,
        card_enc,
        card_masked,
        account_name_enc,
        close_account,
        at,
    )
    return row is not None


async def insert_with_send(
    conn: asyncpg.Connection,
    *,
    payout_id: UUID,
    application_id: UUID,
    citizen_id: UUID,
    amount_fen: int,
    bank_name: str,
    card_enc: str,
    card_masked: str,
    account_name_enc: str,
    close_account: bool,
    actor: Actor,
    at: datetime,
    send_kind: str,
    claimed_until: datetime | None,
) -> bool:
    """The payout, its events and its `payout.send` outbox row in one statement; False when one exists.

    With `claimed_until` the caller sends it at once: the payout is written
    `sent` (write-ahead, events requested and sent), the outbox row counts the
    attempt and is not due before `claimed_until`, so the worker leaves it alone
    unless the caller dies.
    """
    claimed = claimed_until is not None
    steps = ["requested", "sent"] if claimed else ["requested"]
    inserted: int = await conn.fetchval(
        "WITH p AS (INSERT INTO payouts (id, application_id, citizen_id, amount_fen, status, bank_name, card_enc,"
        " card_masked, account_name_enc, close_account, attempts, created_at, updated_at)"
        " VALUES ($1, $2, $3, $4, $11, $5, $6, $7, $8, $9, $12, $10, $10)"
        " ON CONFLICT (application_id) DO NOTHING RETURNING id),"
        " ev AS (INSERT INTO payout_events (payout_id, from_status, to_status, actor_type, actor_id, reason,"
        " occurred_at) SELECT p.id, t.f, t.s, $13, $14, NULL, $10 FROM p"
        " CROSS JOIN unnest($15::text[], $16::text[]) WITH ORDINALITY AS t (f, s, n) ORDER BY t.n),"
        " ob AS (INSERT INTO outbox (kind, ref, payload, created_at, available_at, attempts)"
        " SELECT $17, p.id::text, jsonb_build_object('payout_id', p.id::text), $10, $18, $12 FROM p"
        " ON CONFLICT (kind, ref) DO NOTHING)"
        " SELECT count(*) FROM p",
        payout_id,
        application_id,
        citizen_id,
        amount_fen,
        bank_name,
        card_enc,
        card_masked,
        account_name_enc,
        close_account,
        at,
        steps[-1],
        1 if claimed else 0,
        actor.type,
        actor.id,
        [None, *steps[:-1]],
        steps,
        send_kind,
        claimed_until or at,
    )
    return inserted == 1


class Settled(msgspec.Struct, frozen=True, kw_only=True):
    row: PayoutRow
    moved: bool


async def settle(
    conn: asyncpg.Connection,
    payout_id: UUID,
    *,
    amount_fen: int,
    bank_ref: str | None,
    actor: Actor,
    at: datetime,
    send_kind: str,
) -> Settled | None:
    """Lock the payout and, when it is open and the amount matches, mark it settled in one statement.

    Also writes its event and marks its outbox row done. Returns the row as it
    was before (None: no such payout) and whether it moved.
    """
    record = await conn.fetchrow(
        "WITH old AS (SELECT id, application_id, citizen_id, amount_fen, status, bank_name, card_enc, card_masked,"
        " account_name_enc, close_account, attempts, bank_ref, failure_reason FROM payouts WHERE id = $1"
        " FOR UPDATE),"
        " upd AS (UPDATE payouts p SET status = 'settled', updated_at = $2, bank_ref = coalesce($3, p.bank_ref),"
        " final_at = $2 FROM old WHERE p.id = old.id AND old.status IN ('requested', 'sent', 'failed')"
        " AND old.amount_fen = $4 RETURNING p.id, old.status AS from_status),"
        " ev AS (INSERT INTO payout_events (payout_id, from_status, to_status, actor_type, actor_id, reason,"
        " occurred_at) SELECT id, from_status, 'settled', $5, $6, NULL, $2 FROM upd),"
        " ob AS (UPDATE outbox SET done_at = $2, last_error = NULL"
        " WHERE kind = $7 AND ref = $1::text AND done_at IS NULL AND EXISTS (SELECT 1 FROM upd))"
        " SELECT old.*, EXISTS (SELECT 1 FROM upd) AS moved FROM old",
        payout_id,
        at,
        bank_ref,
        amount_fen,
        actor.type,
        actor.id,
        send_kind,
    )
    if record is None:
        return None
    fields = dict(record)
    moved = fields.pop("moved")
    return Settled(row=PayoutRow(**fields), moved=moved)


async def release_send(
    conn: asyncpg.Connection | asyncpg.Pool, payout_id: UUID, *, send_kind: str, retry_at: datetime, error: str
) -> None:
    """Hand a payout the request could not finish to the worker: its outbox row is due at `retry_at`."""
    await conn.execute(
        "UPDATE outbox SET available_at = $3, last_error = $4 WHERE kind = $1 AND ref = $2 AND done_at IS NULL",
        send_kind,
        str(payout_id),
        retry_at,
        error[:500],
    )


async def get(conn: asyncpg.Connection, payout_id: UUID, *, lock: bool = False) -> PayoutRow | None:
    row = await conn.fetchrow(_SELECT_LOCKED if lock else _SELECT, payout_id)
    return PayoutRow(**dict(row)) if row else None


async def for_application(conn: asyncpg.Connection, application_id: UUID) -> PayoutRow | None:
    row = await conn.fetchrow(
        "SELECT id, application_id, citizen_id, amount_fen, status, bank_name, card_enc, card_masked,"
        " account_name_enc, close_account, attempts, bank_ref, failure_reason FROM payouts WHERE application_id = $1",
        application_id,
    )
    return PayoutRow(**dict(row)) if row else None


async def open_ids(conn: asyncpg.Connection) -> list[UUID]:
    """Payouts that are not final yet, oldest first."""
    rows = await conn.fetch(
        "SELECT id FROM payouts WHERE status IN ('requested', 'sent', 'failed') ORDER BY created_at, id"
    )
    return [r["id"] for r in rows]


async def start_attempt(conn: asyncpg.Connection, payout_id: UUID, at: datetime) -> PayoutRow | None:
    """Count an attempt and move `requested` to `sent` before the bank is asked (write-ahead).

    Returns the row as it was before this attempt; None when it is final or missing.
    """
    row = await conn.fetchrow(
        "UPDATE payouts p SET status = CASE WHEN p.status = 'requested' THEN 'sent' ELSE p.status END,"
        " attempts = p.attempts + 1, updated_at = $2"
        " FROM (SELECT id, status, attempts FROM payouts WHERE id = $1 FOR UPDATE) old"
        " WHERE p.id = old.id AND old.status IN ('requested', 'sent')"
        " RETURNING p.id, p.application_id, p.citizen_id, p.amount_fen, old.status, p.bank_name, p.card_enc,"
        " p.card_masked, p.account_name_enc, p.close_account, old.attempts, p.bank_ref, p.failure_reason",
        payout_id,
        at,
    )
    return PayoutRow(**dict(row)) if row else None


async def set_status(
    conn: asyncpg.Connection,
    payout_id: UUID,
    *,
    old: PayoutStatus,
    new: PayoutStatus,
    at: datetime,
    bank_ref: str | None = None,
    failure_reason: str | None = None,
    final: bool = False,
) -> bool:
    """Compare-and-set: only moves a payout that is still in `old`."""
    status: str = await conn.execute(
        "UPDATE payouts SET status = $3, updated_at = $4, bank_ref = coalesce($5, bank_ref),"
        " failure_reason = coalesce($6, failure_reason), final_at = CASE WHEN $7 THEN $4 ELSE final_at END"
        " WHERE id = $1 AND status = $2",
        payout_id,
        old,
        new,
        at,
        bank_ref,
        failure_reason,
        final,
    )
    return status.endswith(" 1")


async def add_event(
    conn: asyncpg.Connection,
    payout_id: UUID,
    *,
    old: str | None,
    new: str,
    actor: Actor,
    reason: str | None,
    at: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO payout_events (payout_id, from_status, to_status, actor_type, actor_id, reason, occurred_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)",
        payout_id,
        old,
        new,
        actor.type,
        actor.id,
        reason,
        at,
    )


async def events(conn: asyncpg.Connection, payout_id: UUID) -> list[PayoutEvent]:
    rows = await conn.fetch(
        "SELECT from_status, to_status, actor_type, actor_id, reason, occurred_at FROM payout_events"
        " WHERE payout_id = $1 ORDER BY id",
        payout_id,
    )
    return [PayoutEvent(**dict(r)) for r in rows]
