"""The outbox handlers that push notifications to the citizen's app (at least once, deduplicated)."""

from __future__ import annotations

from typing import Any

from haoban.notifications import service as notifications
from haoban.notifications.ports import Message
from haoban.runtime import Runtime

CHANNEL = "app_push"


async def deliver_many(runtime: Runtime, payloads: list[dict[str, Any]]) -> None:
    """Send a batch with one read, one notifier call and one write; rows delivered already are skipped."""
    # Single statements on the pool (each its own transaction): no BEGIN/COMMIT round trips.
    due = await notifications.undelivered(runtime.pool, [str(p["reference"]) for p in payloads])
    if not due:
        return
    await runtime.notifier.send_many(
        [Message(channel=CHANNEL, recipient=f"citizen:{d.citizen_id}", body=f"{d.title_zh}：{d.body_zh}") for d in due]
    )
    await notifications.mark_delivered_many(runtime.pool, [d.reference for d in due], runtime.clock.now())


async def deliver(runtime: Runtime, payload: dict[str, Any]) -> None:
    """One row (`run_item`): a batch of one."""
    await deliver_many(runtime, [payload])
