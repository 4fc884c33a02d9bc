"""SQL for mini-program bindings and binding tickets."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from haoban.miniprogram.ports import PlatformIdentity
from haoban.miniprogram.schemas import BindingRow, TicketRow


async def find_binding(db: asyncpg.Pool | asyncpg.Connection, platform: str, open_id: str) -> BindingRow | None:
    row = await db.fetchrow(
        "SELECT platform, open_id, citizen_id FROM miniprogram_bindings WHERE platform = $1 AND open_id = $2",
        platform,
        open_id,
    )
    return BindingRow(**dict(row)) if row else None


async def insert_binding(conn: asyncpg.Connection, identity: PlatformIdentity, citizen_id: UUID, at: datetime) -> bool:
    """False when the platform identity is already bound (to anyone)."""
    status = await conn.execute(
        "INSERT INTO miniprogram_bindings (platform, open_id, union_id, citizen_id, bound_at)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (platform, open_id) DO NOTHING",
        identity.platform,
        identity.open_id,
        identity.union_id,
        citizen_id,
        at,
    )
    return bool(status == "INSERT 0 1")


async def insert_ticket(
    conn: asyncpg.Connection,
    *,
    ticket_hmac: bytes,
    identity: PlatformIdentity,
    challenge: str,
    created_at: datetime,
    expires_at: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO miniprogram_binding_tickets"
        " (ticket_hmac, platform, open_id, union_id, challenge, created_at, expires_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)",
        ticket_hmac,
        identity.platform,
        identity.open_id,
        identity.union_id,
        challenge,
        created_at,
        expires_at,
    )


async def purge_tickets(conn: asyncpg.Connection, before: datetime) -> None:
    await conn.execute("DELETE FROM miniprogram_binding_tickets WHERE expires_at < $1", before)


async def get_ticket(
    db: asyncpg.Pool | asyncpg.Connection, ticket_hmac: bytes, *, for_update: bool = False
) -> TicketRow | None:
    sql = (
        "SELECT platform, open_id, union_id, challenge, expires_at, used_at FROM miniprogram_binding_tickets"
        " WHERE ticket_hmac = $1"
    )
    row = await db.fetchrow(sql + (" FOR UPDATE" if for_update else ""), ticket_hmac)
    return TicketRow(**dict(row)) if row else None


async def use_ticket(conn: asyncpg.Connection, ticket_hmac: bytes, citizen_id: UUID, at: datetime) -> None:
    await conn.execute(
        "UPDATE miniprogram_binding_tickets SET used_at = $2, citizen_id = $3 WHERE ticket_hmac = $1",
        ticket_hmac,
        at,
        citizen_id,
    )
