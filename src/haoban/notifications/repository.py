"""SQL for the sandbox notification channel's outbox of delivered messages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg
import msgspec

from haoban.notifications.ports import Message


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
