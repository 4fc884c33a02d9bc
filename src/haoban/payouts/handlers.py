"""The outbox handler for `payout.send`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from haoban.payouts.settlement import SEND_KIND, attempt

if TYPE_CHECKING:
    from haoban.runtime import Runtime

__all__ = ["SEND_KIND", "send_payout"]


async def send_payout(runtime: Runtime, payload: dict[str, Any]) -> None:
    """Send or look up the payout; raises (BankTimeout, BankUnavailable) to be retried with backoff."""
    await attempt(runtime, UUID(payload["payout_id"]))
