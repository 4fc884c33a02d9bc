"""SQL for citizen accounts."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from haoban.citizens.schemas import Citizen
from haoban.db.batch import Batch
from haoban.db.sql import Cte, Param, Template


async def insert(
    conn: asyncpg.Connection,
    *,
    citizen_id: UUID,
    created_at: datetime,
    id_number_hmac: bytes | None = None,
    id_number_enc: str | None = None,
) -> bool:
    status = await conn.execute(
        "INSERT INTO citizens (id, status, created_at, id_number_hmac, id_number_enc)"
        " VALUES ($1, 'active', $2, $3, $4) ON CONFLICT DO NOTHING",
        citizen_id,
        created_at,
        id_number_hmac,
        id_number_enc,
    )
    return bool(status.endswith(" 1"))


async def get(conn: asyncpg.Connection, citizen_id: UUID) -> Citizen | None:
    row = await conn.fetchrow("SELECT id, status, created_at FROM citizens WHERE id = $1", citizen_id)
    if row is None:
        return None
    return Citizen(id=row["id"], status=row["status"], created_at=row["created_at"])


async def sealed_id_number(conn: asyncpg.Connection, citizen_id: UUID) -> str | None:
    value: str | None = await conn.fetchval("SELECT id_number_enc FROM citizens WHERE id = $1", citizen_id)
    return value


async def find_by_id_number(conn: asyncpg.Connection, id_number_hmac: bytes) -> UUID | None:
    value: UUID | None = await conn.fetchval("SELECT id FROM citizens WHERE id_number_hmac = $1", id_number_hmac)
    return value


async def bind_id_number(conn: asyncpg.Connection, citizen_id: UUID, id_number_hmac: bytes, id_number_enc: str) -> bool:
    """Bind an ID number to an existing account that has none yet."""
    status = await conn.execute(
        "UPDATE citizens SET id_number_hmac = $2, id_number_enc = $3 WHERE id = $1 AND id_number_hmac IS NULL",
        citizen_id,
        id_number_hmac,
        id_number_enc,
    )
    return bool(status.endswith(" 1"))


async def set_phone(conn: asyncpg.Connection, citizen_id: UUID, phone_enc: str) -> None:
    await conn.execute("UPDATE citizens SET phone_enc = $2 WHERE id = $1", citizen_id, phone_enc)


async def sealed_phone(conn: asyncpg.Connection, citizen_id: UUID) -> str | None:
    value: str | None = await conn.fetchval("SELECT phone_enc FROM citizens WHERE id = $1", citizen_id)
    return value


async def profile(conn: asyncpg.Connection, citizen_id: UUID) -> tuple[Citizen, str | None] | None:
    """The account and its sealed ID number."""
    row = await conn.fetchrow("SELECT id, status, created_at, id_number_enc FROM citizens WHERE id = $1", citizen_id)
    if row is None:
        return None
    citizen = Citizen(id=row["id"], status=row["status"], created_at=row["created_at"])
    return citizen, row["id_number_enc"]


async def id_number_hmac(conn: asyncpg.Connection, citizen_id: UUID) -> bytes | None:
    value: bytes | None = await conn.fetchval("SELECT id_number_hmac FROM citizens WHERE id = $1", citizen_id)
    return value


async def exists(conn: asyncpg.Connection, citizen_id: UUID) -> bool:
    return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM citizens WHERE id = $1)", citizen_id))


_SEALED_ID_NUMBER = Template("SELECT id_number_enc FROM citizens WHERE id = {citizen_id}")


def add_sealed_id_number(b: Batch, prefix: str, citizen_id: UUID | Param) -> Cte:
    """CTE `<prefix>_sealed`: the citizen's sealed ID number (column id_number_enc), in a larger statement."""
    cid = citizen_id if isinstance(citizen_id, Param) else b.arg(citizen_id, "uuid")
    return b.cte(f"{prefix}_sealed", b.sql(_SEALED_ID_NUMBER, citizen_id=cid), ("id_number_enc",))
