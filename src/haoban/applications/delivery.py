"""The outbox handler that pushes a notification to the citizen's app (at least once, deduplicated)."""

from __future__ import annotations

from typing import Any

from haoban.applications import repository as repo
from haoban.runtime import Runtime

CHANNEL = "app_push"


async def deliver(runtime: Runtime, payload: dict[str, Any]) -> None:
    """Send once; a redelivered event whose notification went out already does nothing."""
    reference = str(payload["reference"])
    # Single statements on the pool (each its own transaction): no BEGIN/COMMIT round trips.
    item = await repo.delivery(runtime.pool, reference)
    if item is None or item.delivered_at is not None:
        return
    await runtime.notifier.send(
        channel=CHANNEL, recipient=f"citizen:{item.citizen_id}", body=f"{item.title_zh}：{item.body_zh}"
    )
    await repo.mark_delivered(runtime.pool, reference, runtime.clock.now())
