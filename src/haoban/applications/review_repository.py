"""SQL for the manual lane's reads: the review queue and an application's history with its actors."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

from haoban.applications.schemas import Queued, ReviewEvent

QUEUE_STATUSES = ["pending_review", "pending_materials"]


async def queue(
    conn: asyncpg.Connection, *, departments: list[str], after: tuple[datetime, UUID] | None, limit: int
) -> list[Queued]:
    """Applications waiting in these departments, oldest first (keyset on created_at, id)."""
    after_at, after_id = after if after is not None else (None, None)
    records = await conn.fetch(
        "SELECT a.id, a.service_code, a.department, a.status, a.decision_id, a.created_at, a.updated_at"
        " FROM applications a"
        " WHERE a.department = ANY($1::text[]) AND a.status = ANY($2::text[])"
        " AND ($3::timestamptz IS NULL OR (a.created_at, a.id) > ($3::timestamptz, $4::uuid))"
        " ORDER BY a.created_at, a.id LIMIT $5",
        departments,
        QUEUE_STATUSES,
        after_at,
        after_id,
        limit,
    )
    return [msgspec.convert(dict(r), Queued) for r in records]


async def history(conn: asyncpg.Connection, application_id: UUID) -> list[ReviewEvent]:
    records = await conn.fetch(
        "SELECT from_status, to_status, actor_type, actor_id, reason, occurred_at FROM application_events"
        " WHERE application_id = $1 ORDER BY id",
        application_id,
    )
    return [msgspec.convert(dict(r), ReviewEvent) for r in records]
