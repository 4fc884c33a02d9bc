"""SQL for payout orders and their events."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

from haoban.audit.schemas import Actor
from haoban.db.batch import Batch
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


# --- the same writes as CTEs of a larger statement (haoban.db.batch) ---------


def add_payout(
    b: Batch,
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
    guard: str,
) -> None:
    """CTEs writing the payout, its events and its `payout.send` outbox row when `guard` (a CTE) has a row.

    With `claimed_until` the caller sends it at once: the payout is written
    `sent` (write-ahead, events requested and sent), the outbox row counts the
    attempt and is not due before `claimed_until`, so the worker leaves it alone
    unless the caller dies. `payout` is empty when the application has a payout.
    """
    claimed = claimed_until is not None
    when, pid = b.arg(at, "timestamptz"), b.arg(payout_id, "uuid")
    values = ", ".join(
        (
            pid,
            b.arg(application_id, "uuid"),
            b.arg(citizen_id, "uuid"),
            b.arg(amount_fen, "bigint"),
            "'sent'" if claimed else "'requested'",
            b.arg(bank_name, "text"),
            b.arg(card_enc, "text"),
            b.arg(card_masked, "text"),
            b.arg(account_name_enc, "text"),
            b.arg(close_account, "boolean"),
            "1" if claimed else "0",
            when,
            when,
        )
    )
    b.cte(
        "payout",
        "INSERT INTO payouts (id, application_id, citizen_id, amount_fen, status, bank_name, card_enc, card_masked,"  # noqa: S608
        f" account_name_enc, close_account, attempts, created_at, updated_at) SELECT {values} FROM {guard}"
        " ON CONFLICT (application_id) DO NOTHING RETURNING id",
    )
    who = f"{b.arg(actor.type, 'text')}, {b.arg(actor.id, 'text')}"
    b.cte(
        "payout_ev",
        "INSERT INTO payout_events (payout_id, from_status, to_status, actor_type, actor_id, reason, occurred_at)"  # noqa: S608
        f" SELECT p.id, t.f, t.s, {who}, NULL, {when} FROM payout p"
        " CROSS JOIN (VALUES (1, NULL, 'requested'), (2, 'requested', 'sent')) AS t (n, f, s)"
        f" WHERE t.n = 1 OR {'true' if claimed else 'false'} ORDER BY t.n",
    )
    b.cte(
        "payout_ob",
        "INSERT INTO outbox (kind, ref, payload, created_at, available_at, attempts)"  # noqa: S608
        f" SELECT {b.arg(send_kind, 'text')}, p.id::text, jsonb_build_object('payout_id', p.id::text), {when},"
        f" {b.arg(claimed_until or at, 'timestamptz')}, {'1' if claimed else '0'} FROM payout p",
    )


def add_settle(
    b: Batch,
    payout_id: UUID,
    *,
    amount_fen: int,
    bank_ref: str | None,
    actor: Actor,
    at: datetime,
    send_kind: str,
) -> str:
    """`settle` as CTEs: `old` (the locked row as it was), `settled` (a row when it moved; returned) and
    `settled_closing` (its citizen when the payout closes the member account)."""
    pid, when = b.arg(payout_id, "uuid"), b.arg(at, "timestamptz")
    b.cte(
        "old",
        "SELECT id, application_id, citizen_id, amount_fen, status, bank_name, card_enc, card_masked,"  # noqa: S608
        f" account_name_enc, close_account, attempts, bank_ref, failure_reason FROM payouts WHERE id = {pid}"
        " FOR UPDATE",
    )
    b.cte(
        "settled",
        f"UPDATE payouts p SET status = 'settled', updated_at = {when},"  # noqa: S608
        f" bank_ref = coalesce({b.arg(bank_ref, 'text')}, p.bank_ref), final_at = {when} FROM old"
        " WHERE p.id = old.id AND old.status IN ('requested', 'sent', 'failed')"
        f" AND old.amount_fen = {b.arg(amount_fen, 'bigint')}"
        " RETURNING p.id, old.status AS from_status, p.application_id, p.citizen_id, p.close_account, p.amount_fen",
    )
    b.cte(
        "settled_ev",
        "INSERT INTO payout_events (payout_id, from_status, to_status, actor_type, actor_id, reason, occurred_at)"  # noqa: S608
        f" SELECT id, from_status, 'settled', {b.arg(actor.type, 'text')}, {b.arg(actor.id, 'text')}, NULL, {when}"
        " FROM settled",
    )
    b.cte(
        "settled_ob",
        f"UPDATE outbox SET done_at = {when}, last_error = NULL WHERE kind = {b.arg(send_kind, 'text')}"  # noqa: S608
        f" AND ref = {pid}::text AND done_at IS NULL AND EXISTS (SELECT 1 FROM settled)",
    )
    b.cte("settled_closing", "SELECT citizen_id FROM settled WHERE close_account")
    return "settled"


class Settled(msgspec.Struct, frozen=True, kw_only=True):
    row: PayoutRow
    moved: bool


async def run_settle(b: Batch, conn: asyncpg.Connection) -> Settled | None:
    """Run a statement built around `add_settle`: the row as it was (None: no such payout) and whether it moved."""
    record = await b.fetchrow(conn, "SELECT old.*, EXISTS (SELECT 1 FROM settled) AS moved FROM old")
    if record is None:
        return None
    fields = dict(record)
    moved = fields.pop("moved")
    return Settled(row=PayoutRow(**fields), moved=moved)


class Instructed(msgspec.Struct, frozen=True, kw_only=True):
    """A payout as the fund-centre reconciliation sees it: what Haoban instructed for an application."""

    application_id: UUID
    citizen_id: UUID
    amount_fen: int
    status: str
    created_at: datetime


async def instructed_since(conn: asyncpg.Connection, since: datetime) -> list[Instructed]:
    rows = await conn.fetch(
        "SELECT application_id, citizen_id, amount_fen, status, created_at FROM payouts WHERE created_at >= $1"
        " ORDER BY created_at, application_id",
        since,
    )
    return [Instructed(**dict(r)) for r in rows]


class StatusCount(msgspec.Struct, frozen=True, kw_only=True):
    status: str
    count: int


async def open_counts(conn: asyncpg.Connection) -> list[StatusCount]:
    """Payouts not yet final, by status (the partial index payouts_open); final ones grow without bound."""
    rows = await conn.fetch(
        "SELECT status, count(*) AS count FROM payouts WHERE status IN ('requested', 'sent', 'failed') GROUP BY status"
    )
    return [StatusCount(status=r["status"], count=r["count"]) for r in rows]
