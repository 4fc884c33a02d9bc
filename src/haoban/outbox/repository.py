"""SQL for the transactional outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from haoban.db.batch import Batch
from haoban.db.sql import Cte, Param, Template


class OutboxItem(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    kind: str
    ref: str
    payload: dict[str, Any]
    attempts: int


class OutboxRow(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    kind: str
    ref: str
    payload: dict[str, Any]
    created_at: datetime
    available_at: datetime
    attempts: int
    last_error: str | None
    done_at: datetime | None


async def insert(conn: asyncpg.Connection, *, kind: str, ref: str, payload: dict[str, Any], at: datetime) -> bool:
    status: str = await conn.execute(
        "INSERT INTO outbox (kind, ref, payload, created_at, available_at) VALUES ($1, $2, $3, $4, $4)"
        " ON CONFLICT (kind, ref) DO NOTHING",
        kind,
        ref,
        payload,
        at,
    )
    return status.endswith(" 1")


async def claim_due(conn: asyncpg.Connection, *, now: datetime, lease_until: datetime, limit: int) -> list[OutboxItem]:
    """Take up to `limit` due rows: skip rows another worker holds, push them out by the lease."""
    rows = await conn.fetch(
        "UPDATE outbox SET available_at = $2, attempts = attempts + 1 WHERE id IN ("
        " SELECT id FROM outbox WHERE done_at IS NULL AND available_at <= $1"
        " ORDER BY available_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)"
        " RETURNING id, kind, ref, payload, attempts",
        now,
        lease_until,
        limit,
    )
    return [OutboxItem(**dict(r)) for r in rows]


async def claim_one(
    conn: asyncpg.Connection, *, kind: str, ref: str, now: datetime, lease_until: datetime
) -> OutboxItem | None:
    """Take one named row if it is due and nobody holds it."""
    row = await conn.fetchrow(
        "UPDATE outbox SET available_at = $4, attempts = attempts + 1 WHERE id = ("
        " SELECT id FROM outbox WHERE kind = $1 AND ref = $2 AND done_at IS NULL AND available_at <= $3"
        " FOR UPDATE SKIP LOCKED) RETURNING id, kind, ref, payload, attempts",
        kind,
        ref,
        now,
        lease_until,
    )
    return OutboxItem(**dict(row)) if row else None


async def mark_done(conn: asyncpg.Connection | asyncpg.Pool, item_id: int, at: datetime) -> None:
    await conn.execute(
        "UPDATE outbox SET done_at = $2, last_error = NULL WHERE id = $1 AND done_at IS NULL", item_id, at
    )


async def mark_done_many(conn: asyncpg.Connection | asyncpg.Pool, item_ids: list[int], at: datetime) -> None:
    await conn.execute(
        "UPDATE outbox SET done_at = $2, last_error = NULL WHERE id = ANY($1::bigint[]) AND done_at IS NULL",
        item_ids,
        at,
    )


async def complete(conn: asyncpg.Connection, *, kind: str, ref: str, at: datetime) -> None:
    await conn.execute(
        "UPDATE outbox SET done_at = $3, last_error = NULL WHERE kind = $1 AND ref = $2 AND done_at IS NULL",
        kind,
        ref,
        at,
    )


async def reschedule(
    conn: asyncpg.Connection | asyncpg.Pool, item_id: int, *, available_at: datetime, error: str
) -> None:
    await conn.execute(
        "UPDATE outbox SET available_at = $2, last_error = $3 WHERE id = $1 AND done_at IS NULL",
        item_id,
        available_at,
        error[:500],
    )


async def reschedule_ref(
    conn: asyncpg.Connection | asyncpg.Pool, *, kind: str, ref: str, available_at: datetime, error: str
) -> None:
    """`reschedule` for the open row named by kind and ref."""
    await conn.execute(
        "UPDATE outbox SET available_at = $3, last_error = $4 WHERE kind = $1 AND ref = $2 AND done_at IS NULL",
        kind,
        ref,
        available_at,
        error[:500],
    )


async def get(conn: asyncpg.Connection, *, kind: str, ref: str) -> OutboxRow | None:
    row = await conn.fetchrow(
        "SELECT id, kind, ref, payload, created_at, available_at, attempts, last_error, done_at FROM outbox"
        " WHERE kind = $1 AND ref = $2",
        kind,
        ref,
    )
    return OutboxRow(**dict(row)) if row else None


class Backlog(msgspec.Struct, frozen=True, kw_only=True):
    """Pending rows (capped at `cap`) and when the oldest was written; for metrics and readiness."""

    depth: int
    oldest_at: datetime | None


async def backlog(conn: asyncpg.Connection, *, cap: int = 100_000) -> Backlog:
    # Both read the partial index outbox_due; the count stops at `cap` so a huge backlog stays cheap.
    rows = await conn.fetch(
        "SELECT (SELECT count(*) FROM (SELECT 1 FROM outbox WHERE done_at IS NULL LIMIT $1) AS p) AS depth,"
        " (SELECT min(created_at) FROM outbox WHERE done_at IS NULL) AS oldest_at",
        cap,
    )
    return Backlog(depth=rows[0]["depth"], oldest_at=rows[0]["oldest_at"])


# --- the same writes as CTEs of a larger statement (haoban.db.batch) ---------

_ADD_ROWS = Template(
    "INSERT INTO outbox (kind, ref, payload, created_at, available_at, attempts)"
    " SELECT {kind}, {rows.ref}, {rows.payload}, {at}, {available_at}, {attempts} FROM {rows} ORDER BY {rows.n}"
    " ON CONFLICT (kind, ref) DO NOTHING"
)
_COMPLETE = Template(
    "UPDATE outbox SET done_at = {at}, last_error = NULL WHERE kind = {kind}"
    " AND ref IN (SELECT {refs.ref} FROM {refs}) AND done_at IS NULL"
)


def add_rows(
    b: Batch,
    prefix: str,
    rows: Cte,
    *,
    kind: str,
    at: datetime | Param,
    available_at: datetime | Param | None = None,
    attempts: int = 0,
) -> Cte:
    """CTE `<prefix>_outbox`: `insert` for each row of `rows` (columns ref, payload, n), in `n` order."""
    when = at if isinstance(at, Param) else b.arg(at, "timestamptz")
    due = when if available_at is None else available_at
    due = due if isinstance(due, Param) else b.arg(due, "timestamptz")
    sql = b.sql(
        _ADD_ROWS, kind=b.arg(kind, "text"), rows=rows, at=when, available_at=due, attempts=b.arg(attempts, "int")
    )
    return b.cte(f"{prefix}_outbox", sql)


def add_complete(b: Batch, prefix: str, refs: Cte, *, kind: str, at: datetime | Param) -> Cte:
    """CTE `<prefix>_done`: `complete` for the open rows of `kind` named by `refs` (column ref)."""
    when = at if isinstance(at, Param) else b.arg(at, "timestamptz")
    return b.cte(f"{prefix}_done", b.sql(_COMPLETE, at=when, kind=b.arg(kind, "text"), refs=refs))
