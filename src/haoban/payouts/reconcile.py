"""`haoban payouts reconcile`: finish every payout that is not final by asking the bank."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING
from uuid import UUID

from haoban.audit.schemas import Actor
from haoban.db.pool import unit_of_work
from haoban.ledger import service as ledger
from haoban.payouts import repository as repo
from haoban.payouts.ports import BankTimeout, BankUnavailable
from haoban.payouts.schemas import ReconcileReport
from haoban.payouts.settlement import WORKER, Attempt, BankMismatch, attempt

if TYPE_CHECKING:
    from haoban.runtime import Runtime

log = logging.getLogger(__name__)
_CONCURRENCY = 10


async def reconcile(runtime: Runtime, *, actor: Actor = WORKER) -> ReconcileReport:
    """Settle, reverse or send every open payout; the bank's `status` decides, never a blind resend.

    A payout that was `sent` is looked up first and transferred again (same
    payout id) only when the bank never got it; a `requested` one is sent.
    """
    async with unit_of_work(runtime.pool) as conn:
        ids = await repo.open_ids(conn)
    results: list[Attempt | None] = []
    for start in range(0, len(ids), _CONCURRENCY):
        chunk = ids[start : start + _CONCURRENCY]
        results += await asyncio.gather(*(_one(runtime, payout_id, actor) for payout_id in chunk))
    async with unit_of_work(runtime.pool) as conn:
        unbalanced = await ledger.unbalanced_groups(conn)
    done = [r for r in results if r is not None]
    return ReconcileReport(
        checked=len(ids),
        settled=sum(r.outcome == "settled" for r in done),
        reversed=sum(r.outcome == "reversed" for r in done),
        resent=sum(r.resent for r in done),
        still_open=len(results) - len(done),
        unbalanced_groups=len(unbalanced),
    )


async def _one(runtime: Runtime, payout_id: UUID, actor: Actor) -> Attempt | None:
    try:
        return await attempt(runtime, payout_id, actor=actor)
    except (BankTimeout, BankUnavailable, BankMismatch) as exc:
        log.warning("reconcile: payout %s still open: %s", payout_id, type(exc).__name__)
        return None


def summary(report: ReconcileReport) -> str:
    return (
        f"checked {report.checked} open payout(s): {report.settled} settled, {report.reversed} reversed"
        f" ({report.resent} sent again after the bank had no record), {report.still_open} still open;"
        f" unbalanced ledger groups: {report.unbalanced_groups}"
    )
