"""SQL of the sandbox knobs: source faults and the clock offset (migration 0019)."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from haoban.kit.refreshed import ChangeCounter
from haoban.sandbox.schemas import SourceFault

changes = ChangeCounter()  # source-fault changes made by this process: its faulty sources re-read them at once


async def source_fault(db: asyncpg.Pool | asyncpg.Connection, source: str) -> SourceFault:
    row = await db.fetchrow("SELECT latency_ms, failure_rate FROM sandbox_bank.source_faults WHERE source = $1", source)
    return SourceFault(**dict(row)) if row else SourceFault()


async def set_source_fault(conn: asyncpg.Connection, source: str, fault: SourceFault, at: datetime) -> None:
    changes.bump()
    await conn.execute(
        "INSERT INTO sandbox_bank.source_faults (source, latency_ms, failure_rate, updated_at) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (source) DO UPDATE SET latency_ms = EXCLUDED.latency_ms,"
        " failure_rate = EXCLUDED.failure_rate, updated_at = EXCLUDED.updated_at",
        source,
        fault.latency_ms,
        fault.failure_rate,
        at,
    )


async def clock_offset(db: asyncpg.Pool | asyncpg.Connection) -> int:
    value = await db.fetchval("SELECT offset_s FROM sandbox_bank.clock WHERE id")
    return int(value) if value is not None else 0


async def set_clock_offset(conn: asyncpg.Connection, offset_s: int, at: datetime) -> None:
    await conn.execute(
        "INSERT INTO sandbox_bank.clock (id, offset_s, updated_at) VALUES (true, $1, $2)"
        " ON CONFLICT (id) DO UPDATE SET offset_s = EXCLUDED.offset_s, updated_at = EXCLUDED.updated_at",
        offset_s,
        at,
    )
