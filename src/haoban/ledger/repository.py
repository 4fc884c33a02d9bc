"""SQL for the ledger: accounts, groups, entries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

from haoban.db.batch import Batch
from haoban.db.sql import Cte, Param, Template


class AccountRow(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    code: str
    kind: str
    balance_fen: int
    closed: bool


class MemberAccount(msgspec.Struct, frozen=True, kw_only=True):
    citizen_id: UUID
    code: str
    balance_fen: int
    opened_at: datetime
    closed_at: datetime | None


class EntryRow(msgspec.Struct, frozen=True, kw_only=True):
    group_id: int
    group_kind: str
    group_ref: str
    account: str
    direction: str
    amount_fen: int
    created_at: datetime


async def account(conn: asyncpg.Connection, code: str) -> AccountRow | None:
    row = await conn.fetchrow(
        "SELECT id, code, kind, balance_fen, closed_at IS NOT NULL AS closed FROM ledger_accounts WHERE code = $1",
        code,
    )
    return AccountRow(**dict(row)) if row else None


async def insert_member_account(conn: asyncpg.Connection, *, citizen_id: UUID, code: str, at: datetime) -> bool:
    """True when this call opened the account (it did not exist)."""
    row = await conn.fetchrow(
        "INSERT INTO ledger_accounts (code, kind, citizen_id, opened_at) VALUES ($1, 'member', $2, $3)"
        " ON CONFLICT (citizen_id) DO NOTHING RETURNING id",
        code,
        citizen_id,
        at,
    )
    return row is not None


async def debit_member(conn: asyncpg.Connection, code: str, amount_fen: int, *, exact: bool) -> int | None:
    """Lower an open member balance in one statement; None when it would go below zero.

    `exact` also requires the balance to equal the amount (a withdrawal of everything).
    The row lock taken by UPDATE serialises concurrent debits: no read-then-write.
    """
    balance: int | None = await conn.fetchval(
        "UPDATE ledger_accounts SET balance_fen = balance_fen - $2"
        " WHERE code = $1 AND kind = 'member' AND closed_at IS NULL AND balance_fen >= $2"
        " AND (NOT $3 OR balance_fen = $2) RETURNING balance_fen",
        code,
        amount_fen,
        exact,
    )
    return balance


async def credit_member(conn: asyncpg.Connection, code: str, amount_fen: int) -> int | None:
    """None: no such member account."""
    balance: int | None = await conn.fetchval(
        "UPDATE ledger_accounts SET balance_fen = balance_fen + $2 WHERE code = $1 AND kind = 'member'"
        " RETURNING balance_fen",
        code,
        amount_fen,
    )
    return balance


async def insert_group(
    conn: asyncpg.Connection, *, kind: str, ref: str, rows: Sequence[tuple[str, str, int]], at: datetime
) -> tuple[int, int]:
    """One group and its entries in one statement; rows: (account code, direction, amount_fen).

    Returns (group id, entries written); fewer entries than rows means an account code is unknown.
    """
    row = await conn.fetchrow(
        "WITH g AS (INSERT INTO ledger_groups (kind, ref, created_at) VALUES ($1, $2, $6) RETURNING id),"
        " e AS (INSERT INTO ledger_entries (group_id, account_id, direction, amount_fen, created_at)"
        " SELECT g.id, a.id, t.d, t.m, $6 FROM g"
        " CROSS JOIN unnest($3::text[], $4::text[], $5::bigint[]) AS t (code, d, m)"
        " JOIN ledger_accounts a ON a.code = t.code RETURNING 1)"
        " SELECT (SELECT id FROM g) AS group_id, (SELECT count(*) FROM e) AS written",
        kind,
        ref,
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        at,
    )
    assert row is not None  # noqa: S101 (the statement always returns one row)
    return row["group_id"], row["written"]


async def member(conn: asyncpg.Connection, citizen_id: UUID) -> MemberAccount | None:
    row = await conn.fetchrow(
        "SELECT citizen_id, code, balance_fen, opened_at, closed_at FROM ledger_accounts"
        " WHERE citizen_id = $1 AND kind = 'member'",
        citizen_id,
    )
    return MemberAccount(**dict(row)) if row else None


async def locked_member_balance(conn: asyncpg.Connection, citizen_id: UUID) -> int | None:
    """The member balance, its row locked until the caller's transaction ends (None: no account)."""
    balance: int | None = await conn.fetchval(
        "SELECT balance_fen FROM ledger_accounts WHERE citizen_id = $1 AND kind = 'member' FOR UPDATE", citizen_id
    )
    return balance


async def close_member(conn: asyncpg.Connection, citizen_id: UUID, at: datetime) -> bool:
    status: str = await conn.execute(
        "UPDATE ledger_accounts SET closed_at = $2 WHERE citizen_id = $1 AND kind = 'member' AND closed_at IS NULL",
        citizen_id,
        at,
    )
    return status.endswith(" 1")


async def entries_for_ref(conn: asyncpg.Connection, ref: str) -> list[EntryRow]:
    rows = await conn.fetch(
        "SELECT g.id AS group_id, g.kind AS group_kind, g.ref AS group_ref, a.code AS account, e.direction,"
        " e.amount_fen, e.created_at FROM ledger_groups g JOIN ledger_entries e ON e.group_id = g.id"
        " JOIN ledger_accounts a ON a.id = e.account_id WHERE g.ref = $1 ORDER BY e.id",
        ref,
    )
    return [EntryRow(**dict(r)) for r in rows]


async def balance_from_entries(conn: asyncpg.Connection, code: str) -> int:
    """Credits minus debits of one account, summed from its entries."""
    total: int = await conn.fetchval(
        "SELECT coalesce(sum(CASE e.direction WHEN 'credit' THEN e.amount_fen ELSE -e.amount_fen END), 0)::bigint"
        " FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id WHERE a.code = $1",
        code,
    )
    return total


async def unbalanced_groups(conn: asyncpg.Connection) -> list[int]:
    """Ids of groups whose entries do not sum to zero (should always be empty)."""
    rows = await conn.fetch(
        "SELECT g.id FROM ledger_groups g LEFT JOIN ledger_entries e ON e.group_id = g.id GROUP BY g.id"
        " HAVING count(e.id) < 2"
        " OR coalesce(sum(CASE e.direction WHEN 'debit' THEN e.amount_fen ELSE -e.amount_fen END), 0) <> 0"
        " ORDER BY g.id"
    )
    return [r["id"] for r in rows]


async def member_balance_drift(conn: asyncpg.Connection) -> list[str]:
    """Member accounts whose balance column differs from their entries (should always be empty)."""
    rows = await conn.fetch(
        "SELECT a.code FROM ledger_accounts a LEFT JOIN ledger_entries e ON e.account_id = a.id"
        " WHERE a.kind = 'member' GROUP BY a.id, a.code, a.balance_fen"
        " HAVING a.balance_fen <>"
        " coalesce(sum(CASE e.direction WHEN 'credit' THEN e.amount_fen ELSE -e.amount_fen END), 0)"
        " ORDER BY a.code"
    )
    return [r["code"] for r in rows]


# --- the same writes as CTEs of a larger statement (haoban.db.batch) ---------

_DEBIT = Template(
    "UPDATE ledger_accounts SET balance_fen = balance_fen - {amount}"
    " WHERE code = {code} AND kind = 'member' AND closed_at IS NULL AND balance_fen >= {amount}"
    " AND (NOT {exact} OR balance_fen = {amount}) RETURNING balance_fen"
)
_GROUP = Template(
    "INSERT INTO ledger_groups (kind, ref, created_at) SELECT {kind}, {ref}, {at} FROM {guard} RETURNING id"
)
_ENTRIES = Template(
    "INSERT INTO ledger_entries (group_id, account_id, direction, amount_fen, created_at)"
    " SELECT g.id, a.id, t.d, t.m, {at} FROM {group} g"
    " CROSS JOIN unnest({codes}, {directions}, {amounts}) AS t (code, d, m)"
    " JOIN ledger_accounts a ON a.code = t.code"
)
_CLOSE_EMPTIED = Template(
    "UPDATE ledger_accounts SET closed_at = {at}"
    " WHERE kind = 'member' AND closed_at IS NULL AND balance_fen = 0"
    " AND citizen_id IN (SELECT {citizens.citizen_id} FROM {citizens})"
)
_MEMBER_BALANCE = Template("SELECT balance_fen FROM ledger_accounts WHERE citizen_id = {citizen} AND kind = 'member'")


def add_debit(b: Batch, prefix: str, *, code: str, amount_fen: int, exact: bool) -> Cte:
    """CTE `<prefix>_debit`: `debit_member` as part of a statement; one row (the new balance) when it applied."""
    sql = b.sql(_DEBIT, amount=b.arg(amount_fen, "bigint"), code=b.arg(code, "text"), exact=b.arg(exact, "boolean"))
    return b.cte(f"{prefix}_debit", sql, ("balance_fen",))


def add_group(
    b: Batch, prefix: str, *, kind: str, ref: str, rows: Sequence[tuple[str, str, int]], at: datetime, guard: Cte
) -> Cte:
    """CTEs `<prefix>_g` and `<prefix>_e` writing one group and its entries when `guard` has a row.

    An unknown account code leaves the group short of entries, and the deferred
    balance trigger then refuses the whole statement at commit. Returns the group's handle (id).
    """
    when = b.arg(at, "timestamptz")
    group = b.cte(
        f"{prefix}_g",
        b.sql(_GROUP, kind=b.arg(kind, "text"), ref=b.arg(ref, "text"), at=when, guard=guard),
        ("id",),
    )
    codes, directions, amounts = (
        b.arg([r[0] for r in rows], "text[]"),
        b.arg([r[1] for r in rows], "text[]"),
        b.arg([r[2] for r in rows], "bigint[]"),
    )
    b.cte(
        f"{prefix}_e",
        b.sql(_ENTRIES, at=when, group=group, codes=codes, directions=directions, amounts=amounts),
    )
    return group


def add_close_emptied(b: Batch, prefix: str, *, citizens: Cte, at: datetime) -> Cte:
    """CTE `<prefix>_closed` closing the open member accounts of `citizens` (column citizen_id) whose balance is 0."""
    return b.cte(f"{prefix}_closed", b.sql(_CLOSE_EMPTIED, at=b.arg(at, "timestamptz"), citizens=citizens))


def add_member_balance(b: Batch, prefix: str, citizen_id: UUID | Param) -> Cte:
    """CTE `<prefix>_balance`: the member account's balance_fen (no row: not opened yet)."""
    citizen = citizen_id if isinstance(citizen_id, Param) else b.arg(citizen_id, "uuid")
    return b.cte(f"{prefix}_balance", b.sql(_MEMBER_BALANCE, citizen=citizen), ("balance_fen",))
