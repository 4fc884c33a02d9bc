"""SQL of the rate limiter: one statement per hit, one per attempt of a failure streak."""

from __future__ import annotations

from datetime import datetime

import asyncpg
import msgspec

Executor = asyncpg.Pool | asyncpg.Connection


class StreakRow(msgspec.Struct, frozen=True, kw_only=True):
    allowed: bool
    failures: int
    locked_until: datetime | None


async def hit(
    db: Executor, *, scope: str, key: bytes, seconds: list[int], starts: list[datetime], expires: list[datetime]
) -> dict[int, int]:
    """Count one hit in every window at once; the counts after it, by window length."""
    rows = await db.fetch(
        "INSERT INTO rate_limit_hits (scope, key, window_s, window_start, count, expires_at)"
        " SELECT $1, $2, w.seconds, w.start, 1, w.expires"
        " FROM unnest($3::integer[], $4::timestamptz[], $5::timestamptz[]) AS w (seconds, start, expires)"
        " ON CONFLICT (scope, key, window_s, window_start) DO UPDATE SET count = rate_limit_hits.count + 1"
        " RETURNING window_s, count",
        scope,
        key,
        seconds,
        starts,
        expires,
    )
    return {r["window_s"]: r["count"] for r in rows}


async def unhit(db: Executor, *, scope: str, key: bytes, seconds: list[int], starts: list[datetime]) -> None:
    """Take back a refused hit, so that only allowed hits use up the windows."""
    await db.execute(
        "UPDATE rate_limit_hits h SET count = h.count - 1"
        " FROM unnest($3::integer[], $4::timestamptz[]) AS w (seconds, start)"
        " WHERE h.scope = $1 AND h.key = $2 AND h.window_s = w.seconds AND h.window_start = w.start AND h.count > 0",
        scope,
        key,
        seconds,
        starts,
    )


async def counts(db: Executor, *, scope: str, key: bytes, seconds: list[int], starts: list[datetime]) -> dict[int, int]:
    """The current counts without adding a hit."""
    rows = await db.fetch(
        "SELECT h.window_s, h.count FROM rate_limit_hits h"
        " JOIN unnest($3::integer[], $4::timestamptz[]) AS w (seconds, start)"
        " ON h.window_s = w.seconds AND h.window_start = w.start"
        " WHERE h.scope = $1 AND h.key = $2",
        scope,
        key,
        seconds,
        starts,
    )
    return {r["window_s"]: r["count"] for r in rows}


async def attempt(
    db: Executor, *, scope: str, key: bytes, now: datetime, after: int, delays: list[int]
) -> StreakRow | None:
    """Count an attempt in the streak unless it is locked; from `after` failures on, lock it for
    `delays[failures - after]` seconds (the last delay holds for longer streaks).

    The attempt is counted before its outcome is known, so concurrent attempts cannot
    slip past the lock; a success deletes the streak. None: a concurrent first attempt
    created the row in the meantime (treat as refused for a second).
    """
    row = await db.fetchrow(
        "WITH prior AS (SELECT failures, locked_until FROM rate_limit_streaks WHERE scope = $1 AND key = $2),"
        " up AS ("
        "  INSERT INTO rate_limit_streaks AS s (scope, key, failures, locked_until, updated_at)"
        "  VALUES ($1, $2, 1, CASE WHEN $4::integer <= 1 THEN $3::timestamptz"
        "   + make_interval(secs => ($5::integer[])[1]) END, $3)"
        "  ON CONFLICT (scope, key) DO UPDATE SET failures = s.failures + 1,"
        "   locked_until = CASE WHEN s.failures + 1 >= $4 THEN $3::timestamptz + make_interval(secs =>"
        "    ($5::integer[])[LEAST(s.failures + 2 - $4, cardinality($5::integer[]))]) END,"
        "   updated_at = $3"
        "  WHERE s.locked_until IS NULL OR s.locked_until <= $3"
        "  RETURNING s.failures, s.locked_until)"
        " SELECT true AS allowed, failures, locked_until FROM up"
        " UNION ALL SELECT false, failures, locked_until FROM prior WHERE NOT EXISTS (SELECT 1 FROM up)",
        scope,
        key,
        now,
        after,
        delays,
    )
    return None if row is None else StreakRow(**dict(row))


async def clear_streak(db: Executor, *, scope: str, key: bytes) -> None:
    await db.execute("DELETE FROM rate_limit_streaks WHERE scope = $1 AND key = $2", scope, key)


async def prune(conn: asyncpg.Connection, now: datetime, streak_idle_before: datetime) -> int:
    """Drop windows that have ended and streaks idle since `streak_idle_before` and no longer locked."""
    hits = await conn.execute("DELETE FROM rate_limit_hits WHERE expires_at <= $1", now)
    streaks = await conn.execute(
        "DELETE FROM rate_limit_streaks WHERE updated_at < $2 AND (locked_until IS NULL OR locked_until <= $1)",
        now,
        streak_idle_before,
    )
    return int(hits.split()[-1]) + int(streaks.split()[-1])
