"""SQL for the sandbox mini-program platform's login codes (its own table, as the real platform is another system)."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from haoban.miniprogram.ports import PlatformIdentity


async def insert_sandbox_code(
    db: asyncpg.Pool | asyncpg.Connection,
    *,
    code_hmac: bytes,
    identity: PlatformIdentity,
    created_at: datetime,
    expires_at: datetime,
) -> None:
    await db.execute(
        "INSERT INTO sandbox_miniprogram_codes (code_hmac, platform, open_id, union_id, created_at, expires_at)"
        " VALUES ($1, $2, $3, $4, $5, $6)",
        code_hmac,
        identity.platform,
        identity.open_id,
        identity.union_id,
        created_at,
        expires_at,
    )


async def spend_sandbox_code(
    db: asyncpg.Pool | asyncpg.Connection, *, code_hmac: bytes, platform: str, now: datetime
) -> PlatformIdentity | None:
    """Mark the code used if it is this platform's, unused and unexpired; one winner under concurrency."""
    row = await db.fetchrow(
        "UPDATE sandbox_miniprogram_codes SET used_at = $3"
        " WHERE code_hmac = $1 AND platform = $2 AND used_at IS NULL AND expires_at > $3"
        " RETURNING platform, open_id, union_id",
        code_hmac,
        platform,
        now,
    )
    return PlatformIdentity(**dict(row)) if row else None
