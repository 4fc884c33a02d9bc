"""SQL for the sandbox notification channel's outbox of delivered messages."""

from __future__ import annotations

from datetime import datetime

import asyncpg
import msgspec


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


async def for_recipient(conn: asyncpg.Connection, recipient: str, limit: int) -> list[SandboxMessage]:
    rows = await conn.fetch(
        "SELECT id, channel, recipient, body, sent_at FROM sandbox_messages WHERE recipient = $1"
        " ORDER BY id DESC LIMIT $2",
        recipient,
        limit,
    )
    return [SandboxMessage(**dict(r)) for r in rows]
