"""SQL for citizen accounts."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from haoban.citizens.schemas import Citizen


async def insert(conn: asyncpg.Connection, *, citizen_id: UUID, created_at: datetime) -> bool:
    status = await conn.execute(
        "INSERT INTO citizens (id, status, created_at) VALUES ($1, 'active', $2) ON CONFLICT (id) DO NOTHING",
        citizen_id,
        created_at,
    )
    return bool(status.endswith(" 1"))


async def get(conn: asyncpg.Connection, citizen_id: UUID) -> Citizen | None:
    row = await conn.fetchrow("SELECT id, status, created_at FROM citizens WHERE id = $1", citizen_id)
    if row is None:
        return None
    return Citizen(id=row["id"], status=row["status"], created_at=row["created_at"])
