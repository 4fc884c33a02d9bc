"""The fund-centre slice's statements: the lock that lets one replica reconcile at a time."""

from __future__ import annotations

import asyncpg

# The advisory-lock key of reconciliation (a fixed bigint; migrations use their own).
RECONCILE_LOCK = 0x68616F62616E_7263  # "haoban" + "rc"


async def try_reconcile_lock(conn: asyncpg.Connection) -> bool:
    """Take the session lock on `conn` (a connection of its own, never a pooled one); False when held elsewhere."""
    taken: bool = await conn.fetchval("SELECT pg_try_advisory_lock($1)", RECONCILE_LOCK)
    return taken


async def release_reconcile_lock(conn: asyncpg.Connection) -> None:
    await conn.execute("SELECT pg_advisory_unlock($1)", RECONCILE_LOCK)
