"""SQL for payout orders and their events."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

from haoban.audit.schemas import Actor
from haoban.db.batch import Batch
from haoban.db.sql import COMMA, Cte, Sql, Template, join
from haoban.outbox import service as outbox
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


async def for_applications(conn: asyncpg.Connection, application_ids: list[UUID]) -> dict[UUID, PayoutRow]:
    """The payouts of several applications in one query (a page of the citizen's list)."""
    rows = await conn.fetch(
        "SELECT id, application_id, citizen_id, amount_fen, status, bank_name, card_enc, card_masked,"
        " account_name_enc, close_account, attempts, bank_ref, failure_reason FROM payouts"
        " WHERE application_id = ANY($1::uuid[])",
        application_ids,
    )
    return {r["application_id"]: PayoutRow(**dict(r)) for r in rows}


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

_ROW_COLUMNS = (
    "id",
    "application_id",
    "citizen_id",
    "amount_fen",
    "status",
    "bank_name",
    "card_enc",
    "card_masked",
    "account_name_enc",
    "close_account",
    "attempts",
    "bank_ref",
    "failure_reason",
)
_SENT, _REQUESTED = Sql("'sent'"), Sql("'requested'")
_ONE, _ZERO = Sql("1"), Sql("0")
_TRUE, _FALSE = Sql("true"), Sql("false")
_INSERT = Template(
    "INSERT INTO payouts (id, application_id, citizen_id, amount_fen, status, bank_name, card_enc, card_masked,"
    " account_name_enc, close_account, attempts, created_at, updated_at) SELECT {values} FROM {guard}"
    " ON CONFLICT (application_id) DO NOTHING RETURNING id"
)
_INSERT_EVENTS = Template(
    "INSERT INTO payout_events (payout_id, from_status, to_status, actor_type, actor_id, reason, occurred_at)"
    " SELECT p.id, t.f, t.s, {actor_type}, {actor_id}, NULL, {at} FROM {payout} p"
    " CROSS JOIN (VALUES (1, NULL, 'requested'), (2, 'requested', 'sent')) AS t (n, f, s)"
    " WHERE t.n = 1 OR {claimed} ORDER BY t.n"
)
_SEND_ROWS = Template(
    "SELECT {payout.id}::text AS ref, jsonb_build_object('payout_id', {payout.id}::text) AS payload, 1 AS n"
    " FROM {payout}"
)
_OLD = Template(
    "SELECT id, application_id, citizen_id, amount_fen, status, bank_name, card_enc, card_masked,"
    " account_name_enc, close_account, attempts, bank_ref, failure_reason FROM payouts WHERE id = {payout_id}"
    " FOR UPDATE"
)
_SETTLE = Template(
    "UPDATE payouts p SET status = 'settled', updated_at = {at}, bank_ref = coalesce({bank_ref}, p.bank_ref),"
    " final_at = {at} FROM {old} WHERE p.id = {old.id} AND {old.status} IN ('requested', 'sent', 'failed')"
    " AND {old.amount_fen} = {amount}"
    " RETURNING p.id, {old.status} AS from_status, p.application_id, p.citizen_id, p.close_account, p.amount_fen"
)
_SETTLED_EVENT = Template(
    "INSERT INTO payout_events (payout_id, from_status, to_status, actor_type, actor_id, reason, occurred_at)"
    " SELECT {settled.id}, {settled.from_status}, 'settled', {actor_type}, {actor_id}, NULL, {at} FROM {settled}"
)
_SETTLED_REF = Template("SELECT {settled.id}::text AS ref FROM {settled}")
_CLOSING = Template("SELECT {settled.citizen_id} FROM {settled} WHERE {settled.close_account}")
_SETTLE_RESULT = Template(
    "SELECT {old.id}, {old.application_id}, {old.citizen_id}, {old.amount_fen}, {old.status}, {old.bank_name},"
    " {old.card_enc}, {old.card_masked}, {old.account_name_enc}, {old.close_account}, {old.attempts},"
    " {old.bank_ref}, {old.failure_reason}, EXISTS (SELECT 1 FROM {settled}) AS moved FROM {old}"
)


def add_payout(
    b: Batch,
    prefix: str,
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
    guard: Cte,
) -> Cte:
    """CTEs writing the payout, its events and its `payout.send` outbox row when `guard` has a row.

    With `claimed_until` the caller sends it at once: the payout is written
    `sent` (write-ahead, events requested and sent), the outbox row counts the
    attempt and is not due before `claimed_until`, so the worker leaves it alone
    unless the caller dies. The returned handle (`<prefix>_payout`, column id)
    is empty when the application has a payout.
    """
    claimed = claimed_until is not None
    when = b.arg(at, "timestamptz")
    values = join(
        COMMA,
        (
            b.arg(payout_id, "uuid"),
            b.arg(application_id, "uuid"),
            b.arg(citizen_id, "uuid"),
            b.arg(amount_fen, "bigint"),
            _SENT if claimed else _REQUESTED,
            b.arg(bank_name, "text"),
            b.arg(card_enc, "text"),
            b.arg(card_masked, "text"),
            b.arg(account_name_enc, "text"),
            b.arg(close_account, "boolean"),
            _ONE if claimed else _ZERO,
            when,
            when,
        ),
    )
    payout = b.cte(f"{prefix}_payout", b.sql(_INSERT, values=values, guard=guard), ("id",))
    b.cte(
        f"{prefix}_events",
        b.sql(
            _INSERT_EVENTS,
            actor_type=b.arg(actor.type, "text"),
            actor_id=b.arg(actor.id, "text"),
            at=when,
            payout=payout,
            claimed=_TRUE if claimed else _FALSE,
        ),
    )
    send = b.cte(f"{prefix}_send", b.sql(_SEND_ROWS, payout=payout), ("ref", "payload", "n"))
    outbox.add_rows(
        b,
        f"{prefix}_send",
        send,
        kind=send_kind,
        at=when,
        available_at=claimed_until or when,
        attempts=1 if claimed else 0,
    )
    return payout


class SettleCtes(msgspec.Struct, frozen=True, kw_only=True):
    """The handles of `add_settle`: the locked row as it was, the moved row, and its citizen when it closes."""

    old: Cte
    settled: Cte
    closing: Cte


def add_settle(
    b: Batch,
    prefix: str,
    payout_id: UUID,
    *,
    amount_fen: int,
    bank_ref: str | None,
    actor: Actor,
    at: datetime,
    send_kind: str,
) -> SettleCtes:
    """`settle` as CTEs: `old` (the locked row as it was), `settled` (a row when it moved) and
    `closing` (its citizen when the payout closes the member account); its `payout.send` row is done."""
    when = b.arg(at, "timestamptz")
    old = b.cte(f"{prefix}_old", b.sql(_OLD, payout_id=b.arg(payout_id, "uuid")), _ROW_COLUMNS)
    settled = b.cte(
        f"{prefix}_settled",
        b.sql(_SETTLE, at=when, bank_ref=b.arg(bank_ref, "text"), old=old, amount=b.arg(amount_fen, "bigint")),
        ("id", "from_status", "application_id", "citizen_id", "close_account", "amount_fen"),
    )
    b.cte(
        f"{prefix}_event",
        b.sql(
            _SETTLED_EVENT,
            settled=settled,
            actor_type=b.arg(actor.type, "text"),
            actor_id=b.arg(actor.id, "text"),
            at=when,
        ),
    )
    refs = b.cte(f"{prefix}_ref", b.sql(_SETTLED_REF, settled=settled), ("ref",))
    outbox.add_complete(b, f"{prefix}_send", refs, kind=send_kind, at=when)
    closing = b.cte(f"{prefix}_closing", b.sql(_CLOSING, settled=settled), ("citizen_id",))
    return SettleCtes(old=old, settled=settled, closing=closing)


class Settled(msgspec.Struct, frozen=True, kw_only=True):
    row: PayoutRow
    moved: bool


async def run_settle(b: Batch, conn: asyncpg.Connection, ctes: SettleCtes) -> Settled | None:
    """Run a statement built around `add_settle`: the row as it was (None: no such payout) and whether it moved."""
    record = await b.fetchrow(conn, b.sql(_SETTLE_RESULT, old=ctes.old, settled=ctes.settled))
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
