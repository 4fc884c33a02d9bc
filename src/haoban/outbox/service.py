"""Writing to the outbox, in the caller's transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import asyncpg

from haoban.outbox import repository as repo
from haoban.outbox.repository import OutboxRow, add_complete, add_rows  # the CTE builders, for other slices' statements

if TYPE_CHECKING:
    from haoban.runtime import Runtime

__all__ = [
    "BatchHandler",
    "Handler",
    "OutboxRow",
    "add_complete",
    "add_rows",
    "backlog",
    "complete",
    "enqueue",
    "get",
    "release",
]

Handler = Callable[["Runtime", dict[str, Any]], Awaitable[None]]
"""Runs one outbox row after commit; raise to retry with backoff. Must be safe to run twice."""

BatchHandler = Callable[["Runtime", list[dict[str, Any]]], Awaitable[None]]
"""Runs all claimed rows of one kind of a batch at once; raise to retry them all. Must be safe to run twice."""


async def enqueue(conn: asyncpg.Connection, *, kind: str, ref: str, payload: dict[str, Any], at: datetime) -> None:
    """Add a side effect to run after commit; a second row with the same kind and ref is ignored."""
    await repo.insert(conn, kind=kind, ref=ref, payload=payload, at=at)


async def complete(conn: asyncpg.Connection, *, kind: str, ref: str, at: datetime) -> None:
    """Mark a row done from inside the transaction that made it pointless (e.g. a final payout)."""
    await repo.complete(conn, kind=kind, ref=ref, at=at)


async def release(conn: asyncpg.Connection, *, kind: str, ref: str, available_at: datetime, error: str) -> None:
    """Hand a row its caller could not finish back to the worker: due at `available_at`, with the error."""
    await repo.reschedule_ref(conn, kind=kind, ref=ref, available_at=available_at, error=error)


async def get(conn: asyncpg.Connection, *, kind: str, ref: str) -> OutboxRow | None:
    return await repo.get(conn, kind=kind, ref=ref)


async def backlog(conn: asyncpg.Connection) -> repo.Backlog:
    """Pending side effects and the oldest one's age: what /metrics and readiness read."""
    return await repo.backlog(conn)
