"""The outbox handler that pushes a notification to the citizen's app (at least once, deduplicated)."""

from __future__ import annotations

from typing import Any

from haoban.applications import repository as repo
from haoban.db.pool import atomic
from haoban.runtime import Runtime

CHANNEL = "app_push"


async def deliver(runtime: Runtime, payload: dict[str, Any]) -> None:
    """Send once; a redelivered event whose notification went out already does nothing."""
    reference = str(payload["reference"])
    async with atomic(runtime.pool) as conn:
        item = await repo.delivery(conn, reference)
    if item is None or item.delivered_at is not None:
        return
    await runtime.notifier.send(
        channel=CHANNEL, recipient=f"citizen:{item.citizen_id}", body=f"{item.title_zh}：{item.body_zh}"
    )
    async with atomic(runtime.pool) as conn:
        await repo.mark_delivered(conn, reference, runtime.clock.now())
