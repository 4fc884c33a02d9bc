"""The outbox handler for `fundcentre.reverse`: give a debit back when the bank did not pay it.

A payout the bank refuses after the fund centre's debit was accepted puts the
money back on the member mirror (the `reversal` group) and, in the same
transaction, enqueues this row. The handler asks the fund centre to reverse the
instruction (the application's id). Reversal is idempotent at the fund centre,
so a second run changes nothing; FundCentreUnavailable raises to be retried.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from uuid import UUID

if TYPE_CHECKING:
    from haoban.runtime import Runtime

REVERSE_KIND = "fundcentre.reverse"
log = logging.getLogger("haoban.fundcentre")


async def reverse_debit(runtime: Runtime, payload: dict[str, Any]) -> None:
    centre = runtime.fund_centre
    if not centre.configured:  # without a fund centre nothing was debited there (instant withdrawals fail closed)
        return
    instruction_id = UUID(payload["instruction_id"])
    answer = await centre.reverse(instruction_id, reason=str(payload.get("reason") or "payout_failed"))
    log.info(
        "fund-centre debit reversed after a failed payout",
        extra={"instruction_id": str(instruction_id), "status": answer.status if answer else "not_held"},
    )
