"""Compare the ledger's mirror with the fund centre, the system of record (`haoban ledger reconcile`).

Every instant withdrawal Haoban paid was first a debit instruction the fund
centre accepted, under the application's id. Over a window this lists each
difference:
- `not_at_fund_centre`: Haoban paid (or is paying) money the fund centre never debited;
- `not_at_haoban`: the fund centre debited an instruction Haoban holds no payout for
  (a request that died between the debit and its own commit);
- `amount_differs`: both hold it, with different amounts;
- `reversed_payout_still_debited`: the bank sent the money back, the fund centre's debit stands;
- `balance_differs`: the member mirror's balance is not the fund centre's balance of the account
  (each account with an instruction in the window; a deposit not yet synced shows here too).

A difference is reported, never repaired here: the money belongs to the fund
centre's books, and a person decides (docs/money.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Literal
from uuid import UUID

import asyncpg
import msgspec

from haoban.db.pool import connect, unit_of_work
from haoban.fundcentre import repository
from haoban.fundcentre.ports import FundCentre, PostedDebit
from haoban.kit import events
from haoban.kit.masking import mask_ref
from haoban.ledger import service as ledger
from haoban.payouts import service as payouts
from haoban.payouts.service import Instructed
from haoban.runtime import Runtime

log = logging.getLogger("haoban.fundcentre")

Kind = Literal[
    "not_at_fund_centre", "not_at_haoban", "amount_differs", "reversed_payout_still_debited", "balance_differs"
]
WINDOW = timedelta(days=35)


class Difference(msgspec.Struct, frozen=True, kw_only=True):
    kind: Kind
    application_id: UUID
    haoban_amount_fen: int | None
    fund_centre_amount_fen: int | None
    detail: str


class Report(msgspec.Struct, frozen=True, kw_only=True):
    since: datetime
    checked_payouts: int
    checked_debits: int
    differences: list[Difference]
    checked_balances: int = 0


def compare(local: list[Instructed], remote: list[PostedDebit], since: datetime) -> Report:
    """The differences between Haoban's payouts and the fund centre's debits (pure)."""
    debited = {d.instruction_id: d for d in remote if d.status == "accepted"}
    mine = {p.application_id: p for p in local}
    out: list[Difference] = []
    for app_id, p in mine.items():
        d = debited.get(app_id)
        if d is None:
            if p.status != "reversed":
                out.append(
                    Difference(
                        kind="not_at_fund_centre",
                        application_id=app_id,
                        haoban_amount_fen=p.amount_fen,
                        fund_centre_amount_fen=None,
                        detail=f"payout {p.status}, no accepted debit at the fund centre",
                    )
                )
            continue
        if d.amount_fen != p.amount_fen:
            out.append(
                Difference(
                    kind="amount_differs",
                    application_id=app_id,
                    haoban_amount_fen=p.amount_fen,
                    fund_centre_amount_fen=d.amount_fen,
                    detail="the amounts differ",
                )
            )
        if p.status == "reversed":
            out.append(
                Difference(
                    kind="reversed_payout_still_debited",
                    application_id=app_id,
                    haoban_amount_fen=p.amount_fen,
                    fund_centre_amount_fen=d.amount_fen,
                    detail="the bank returned the money; the fund centre's debit stands",
                )
            )
    # A debit received just before the window's start may belong to a payout inside it, and the other way
    # round; only debits at least as new as the window are held against it.
    for app_id, d in debited.items():
        if app_id not in mine and d.received_at >= since:
            out.append(
                Difference(
                    kind="not_at_haoban",
                    application_id=app_id,
                    haoban_amount_fen=None,
                    fund_centre_amount_fen=d.amount_fen,
                    detail=f"debit of account {d.account_no} accepted, no payout at Haoban",
                )
            )
    return Report(since=since, checked_payouts=len(mine), checked_debits=len(debited), differences=out)


async def reconcile(runtime: Runtime, *, since: datetime | None = None) -> Report:
    """One reconciliation over the window (default: the last 35 days) with the runtime's fund centre."""
    start = since or runtime.clock.now() - WINDOW
    async with unit_of_work(runtime.pool, transaction=False) as conn:
        return await reconcile_with(conn, runtime.fund_centre, since=start)


async def reconcile_with(conn: asyncpg.Connection, centre: FundCentre, *, since: datetime) -> Report:
    """Haoban's payouts (read on `conn`) against the fund centre's debits, from `since`."""
    local = await payouts.instructed_since(conn, since - timedelta(days=1))
    remote = await centre.debits(since - timedelta(days=1))
    report = compare(local, remote, since)
    # Payouts made the day before the window are only there to match debits inside it.
    kept = [
        d
        for d in report.differences
        if d.kind != "not_at_fund_centre"
        or any(p.application_id == d.application_id and p.created_at >= since for p in local)
    ]
    balances = await _balance_differences(conn, centre, local, remote)
    return msgspec.structs.replace(report, differences=kept + balances[1], checked_balances=balances[0])


async def _balance_differences(
    conn: asyncpg.Connection, centre: FundCentre, local: list[Instructed], remote: list[PostedDebit]
) -> tuple[int, list[Difference]]:
    """The mirror's balance against the fund centre's, for every account both sides instructed in the window
    (paired through the instruction id, the application's id); the newest application names the account."""
    mine = {p.application_id: p for p in local}
    accounts: dict[str, Instructed] = {}
    for d in remote:
        p = mine.get(d.instruction_id)
        if p is not None and (d.account_no not in accounts or accounts[d.account_no].created_at <= p.created_at):
            accounts[d.account_no] = p
    out: list[Difference] = []
    for account_no, p in sorted(accounts.items()):
        held = await centre.balance(account_no)
        mirror = await ledger.member_balance(conn, p.citizen_id)
        if held != mirror:
            out.append(
                Difference(
                    kind="balance_differs",
                    application_id=p.application_id,
                    haoban_amount_fen=mirror,
                    fund_centre_amount_fen=held,
                    detail=f"account {account_no}: the mirror's balance is not the fund centre's",
                )
            )
    return len(accounts), out


def summary(report: Report) -> str:
    lines = [
        f"since {report.since.isoformat()}: {report.checked_payouts} payouts,"
        f" {report.checked_debits} fund-centre debits, {len(report.differences)} difference(s)"
    ]
    lines += [
        f"  {d.kind} application {d.application_id}: haoban {d.haoban_amount_fen} fen,"
        f" fund centre {d.fund_centre_amount_fen} fen ({d.detail})"
        for d in report.differences
    ]
    return "\n".join(lines)


async def reconcile_once(runtime: Runtime, *, since: datetime | None = None) -> Report | None:
    """One run of `serve`'s loop under the reconciliation lock; None when another replica holds it.

    The lock is a session advisory lock on a connection of its own (pooled
    sessions keep no lock, and a transaction held across the fund centre's
    calls would meet the idle-in-transaction timeout); closing it releases the
    lock even when the run fails.
    """
    lock = await connect(runtime.database_url)
    try:
        if not await repository.try_reconcile_lock(lock):
            log.info("fund-centre reconciliation skipped: another replica is running it")
            return None
        try:
            report = await reconcile(runtime, since=since)
        finally:
            await repository.release_reconcile_lock(lock)
    finally:
        await lock.close()
    record(report)
    return report


def record(report: Report) -> None:
    """Log the report and count it: one `reconciled` event, one `reconcile_difference` per difference."""
    for d in report.differences:
        log.warning("fund-centre difference", extra={"kind": d.kind, "application_id": str(d.application_id)})
        events.emit("reconcile_difference", code=d.kind, application=mask_ref(d.application_id))
    events.emit(
        "reconciled",
        code="differences" if report.differences else "agrees",
        differences=str(len(report.differences)),
        payouts=str(report.checked_payouts),
        debits=str(report.checked_debits),
        balances=str(report.checked_balances),
    )
    log.info("fund-centre reconciliation: %s", summary(report).splitlines()[0])


@contextlib.asynccontextmanager
async def running_reconciliation(runtime: Runtime, *, every_s: float, first_s: float) -> AsyncIterator[None]:
    """`serve` reconciles `first_s` after start, then every `every_s` (daily by default); 0 disables it."""
    if every_s <= 0 or not runtime.fund_centre.configured:
        yield
        return
    stop = asyncio.Event()

    async def loop() -> None:
        wait = first_s
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=wait)
            if stop.is_set():
                return
            wait = every_s
            try:
                await reconcile_once(runtime)
            except Exception:  # the next round tries again
                log.exception("fund-centre reconciliation failed")

    task = asyncio.create_task(loop(), name="fund-centre-reconcile")
    try:
        yield
    finally:
        stop.set()
        await asyncio.gather(task, return_exceptions=True)
