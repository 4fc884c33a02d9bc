"""The periodic chores of serve: expired idempotency keys are pruned, live ones kept."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from haoban.housekeeping import run_once
from haoban.outbox.main import background_runtime
from haoban.settings import Settings


async def test_expired_idempotency_keys_are_pruned_and_live_ones_kept(
    db: asyncpg.Connection, db_url: str, settings: Settings
) -> None:
    now = datetime.now(UTC)
    for key, expires in (("old", now - timedelta(minutes=1)), ("live", now + timedelta(hours=23))):
        await db.execute(
            "INSERT INTO idempotency_keys (citizen_id, key, request_hash, created_at, expires_at)"
            " VALUES ($1, $2, $3, $4, $5)",
            uuid.uuid4(),
            key,
            b"h",
            expires - timedelta(hours=24),
            expires,
        )
    async with background_runtime(settings, db_url) as runtime:
        rejected, pruned = await run_once(runtime)
    assert (rejected, pruned) == (0, 1)
    assert [r["key"] for r in await db.fetch("SELECT key FROM idempotency_keys")] == ["live"]
