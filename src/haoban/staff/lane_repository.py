"""SQL for the manual lane: the review queue and what a reviewer needs to know about an applicant.

(The core's applications repository can absorb `queue`; it only reads `applications` and `decisions`.)
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

from haoban.staff.schemas import HistoryEntry

QUEUE_STATUSES = ["pending_review", "pending_materials"]


class QueueRow(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    service_code: str
    department: str
    status: str
    name: str | None
    created_at: datetime
    updated_at: datetime


async def queue(
    conn: asyncpg.Connection, *, departments: list[str], after: tuple[datetime, UUID] | None, limit: int
) -> list[QueueRow]:
    """Applications waiting in these departments, oldest first (keyset on created_at, id)."""
    after_at, after_id = after if after is not None else (None, None)
    records = await conn.fetch(
        "SELECT a.id, a.service_code, a.department, a.status, d.facts #>> '{identity.name,value}' AS name,"
        " a.created_at, a.updated_at"
        " FROM applications a LEFT JOIN decisions d ON d.id = a.decision_id"
        " WHERE a.department = ANY($1::text[]) AND a.status = ANY($2::text[])"
        " AND ($3::timestamptz IS NULL OR (a.created_at, a.id) > ($3::timestamptz, $4::uuid))"
        " ORDER BY a.created_at, a.id LIMIT $5",
        departments,
        QUEUE_STATUSES,
        after_at,
        after_id,
        limit,
    )
    return [msgspec.convert(dict(r), QueueRow) for r in records]


async def applicant_name(conn: asyncpg.Connection, decision_id: UUID | None) -> str | None:
    if decision_id is None:
        return None
    value: str | None = await conn.fetchval(
        "SELECT facts #>> '{identity.name,value}' FROM decisions WHERE id = $1", decision_id
    )
    return value


async def id_number_hmac(conn: asyncpg.Connection, citizen_id: UUID) -> bytes | None:
    value: bytes | None = await conn.fetchval("SELECT id_number_hmac FROM citizens WHERE id = $1", citizen_id)
    return value


async def history(conn: asyncpg.Connection, application_id: UUID) -> list[HistoryEntry]:
    records = await conn.fetch(
        "SELECT from_status, to_status, actor_type, actor_id, reason, occurred_at FROM application_events"
        " WHERE application_id = $1 ORDER BY id",
        application_id,
    )
    return [msgspec.convert(dict(r), HistoryEntry) for r in records]
