"""SQL for the append-only audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from haoban.audit.schemas import Actor
from haoban.db.batch import Batch
from haoban.db.sql import Cte, Param, Template
from haoban.kit.context import request_id_var


async def record(
    conn: asyncpg.Connection,
    *,
    actor: Actor,
    action: str,
    subject_type: str,
    subject_id: str,
    at: datetime,
    details: dict[str, Any] | None = None,
) -> None:
    await conn.execute(
        """
        INSERT INTO audit_events
            (occurred_at, actor_type, actor_id, action, subject_type, subject_id, request_id, details)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        """,
        at,
        actor.type,
        actor.id,
        action,
        subject_type,
        subject_id,
        request_id_var.get(),
        details or {},
    )


async def has_event(conn: asyncpg.Connection, *, subject_type: str, subject_id: str, action: str) -> bool:
    """Whether the trail holds such an event (e.g. a citizen ever gave biometric consent)."""
    found: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM audit_events WHERE subject_type = $1 AND subject_id = $2 AND action = $3)",
        subject_type,
        subject_id,
        action,
    )
    return found


# --- the trail's rows as a CTE of a larger statement (haoban.db.batch) -------

ROW_COLUMNS = ("actor_type", "actor_id", "action", "subject_type", "subject_id", "details", "n")

_ADD_ROWS = Template(
    "INSERT INTO audit_events"
    " (occurred_at, actor_type, actor_id, action, subject_type, subject_id, request_id, details)"
    " SELECT {at}, {rows.actor_type}, {rows.actor_id}, {rows.action}, {rows.subject_type}, {rows.subject_id},"
    " {request_id}, {rows.details} FROM {rows} ORDER BY {rows.n}"
)


def add_rows(b: Batch, prefix: str, rows: Cte, *, at: datetime | Param) -> Cte:
    """CTE `<prefix>_audit`: one audit row per row of `rows` (columns `ROW_COLUMNS`), in `n` order.

    The request id is the current request's, as `record` writes it.
    """
    when = at if isinstance(at, Param) else b.arg(at, "timestamptz")
    request_id = b.arg(request_id_var.get(), "text")
    return b.cte(f"{prefix}_audit", b.sql(_ADD_ROWS, at=when, rows=rows, request_id=request_id))
