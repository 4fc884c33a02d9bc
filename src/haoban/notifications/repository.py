"""SQL for the citizen's notification inbox and the sandbox channel's log of delivered messages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

from haoban.db.batch import Batch
from haoban.db.sql import Cte, Param, Template
from haoban.notifications.ports import Message
from haoban.notifications.schemas import Notification, Undelivered


class SandboxMessage(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    channel: str
    recipient: str
    body: str
    sent_at: datetime


async def insert(
    db: asyncpg.Pool | asyncpg.Connection, *, channel: str, recipient: str, body: str, at: datetime
) -> None:
    await db.execute(
        "INSERT INTO sandbox_messages (channel, recipient, body, sent_at) VALUES ($1, $2, $3, $4)",
        channel,
        recipient,
        body,
        at,
    )


async def insert_many(db: asyncpg.Pool | asyncpg.Connection, messages: Sequence[Message], *, at: datetime) -> None:
    """One statement for the batch (a single statement is its own transaction on the pool)."""
    await db.execute(
        "INSERT INTO sandbox_messages (channel, recipient, body, sent_at)"
        " SELECT channel, recipient, body, $4"
        " FROM unnest($1::text[], $2::text[], $3::text[]) AS m(channel, recipient, body)",
        [m.channel for m in messages],
        [m.recipient for m in messages],
        [m.body for m in messages],
        at,
    )


async def for_recipient(conn: asyncpg.Connection, recipient: str, limit: int) -> list[SandboxMessage]:
    rows = await conn.fetch(
        "SELECT id, channel, recipient, body, sent_at FROM sandbox_messages WHERE recipient = $1"
        " ORDER BY id DESC LIMIT $2",
        recipient,
        limit,
    )
    return [SandboxMessage(**dict(r)) for r in rows]


# --- the inbox (notifications) ----------------------------------------------


async def insert_notification(
    conn: asyncpg.Connection,
    *,
    citizen_id: UUID,
    reference: str,
    application_id: UUID | None,
    status: str,
    texts: dict[str, str],
    at: datetime,
) -> bool:
    """False when this reference was notified already (redelivery is harmless)."""
    result = await conn.execute(
        "INSERT INTO notifications (citizen_id, reference, application_id, status, title_zh, title_en, body_zh,"
        " body_en, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (reference) DO NOTHING",
        citizen_id,
        reference,
        application_id,
        status,
        texts["title_zh"],
        texts["title_en"],
        texts["body_zh"],
        texts["body_en"],
        at,
    )
    return bool(result == "INSERT 0 1")


async def notifications_page(
    conn: asyncpg.Connection, citizen_id: UUID, *, before: int | None, limit: int
) -> list[Notification]:
    rows = await conn.fetch(
        "SELECT id, reference, application_id, status, title_zh, title_en, body_zh, body_en, created_at,"
        " delivered_at FROM notifications WHERE citizen_id = $1 AND ($2::bigint IS NULL OR id < $2)"
        " ORDER BY id DESC LIMIT $3",
        citizen_id,
        before,
        limit,
    )
    return [Notification(**dict(r)) for r in rows]


async def undelivered(conn: asyncpg.Connection | asyncpg.Pool, references: list[str]) -> list[Undelivered]:
    """The notifications among `references` not delivered yet, oldest first (one statement for a batch)."""
    rows = await conn.fetch(
        "SELECT reference, citizen_id, title_zh, body_zh FROM notifications"
        " WHERE reference = ANY($1::text[]) AND delivered_at IS NULL ORDER BY id",
        references,
    )
    return [Undelivered(**dict(r)) for r in rows]


async def mark_delivered_many(conn: asyncpg.Connection | asyncpg.Pool, references: list[str], at: datetime) -> None:
    await conn.execute(
        "UPDATE notifications SET delivered_at = $2 WHERE reference = ANY($1::text[]) AND delivered_at IS NULL",
        references,
        at,
    )


ROW_COLUMNS = (
    "citizen_id",
    "reference",
    "application_id",
    "status",
    "title_zh",
    "title_en",
    "body_zh",
    "body_en",
    "n",
)

_ADD_ROWS = Template(
    "INSERT INTO notifications"
    " (citizen_id, reference, application_id, status, title_zh, title_en, body_zh, body_en, created_at)"
    " SELECT {rows.citizen_id}, {rows.reference}, {rows.application_id}, {rows.status}, {rows.title_zh},"
    " {rows.title_en}, {rows.body_zh}, {rows.body_en}, {at} FROM {rows} ORDER BY {rows.n}"
    " ON CONFLICT (reference) DO NOTHING RETURNING id, reference"
)


def add_rows(b: Batch, prefix: str, rows: Cte, *, at: datetime | Param) -> Cte:
    """CTE `<prefix>_notified`: one notification per row of `rows` (columns `ROW_COLUMNS`), in `n` order.

    A reference notified already is skipped; the handle yields (id, reference) of those written.
    """
    when = at if isinstance(at, Param) else b.arg(at, "timestamptz")
    return b.cte(f"{prefix}_notified", b.sql(_ADD_ROWS, rows=rows, at=when), ("id", "reference"))
