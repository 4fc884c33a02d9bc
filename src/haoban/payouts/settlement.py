"""One attempt at a payout, and what the bank's answer does to the ledger.

An attempt is: a short transaction that counts it and marks the payout `sent`
(write-ahead: from here the bank may have it), the bank call with no
connection held, then a short transaction that applies the answer. A payout
that was `sent` before is first looked up with `bank.status` and only
transferred again (with the same payout id) when the bank never got it.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Literal
from uuid import UUID

import asyncpg
import msgspec

from haoban.audit.schemas import Actor
from haoban.db.batch import Batch
from haoban.db.pool import unit_of_work
from haoban.kit import events
from haoban.kit.masking import mask_ref
from haoban.ledger import service as ledger
from haoban.ledger.rules import CLEARING, SETTLEMENT, member_account, move
from haoban.outbox.service import complete, enqueue
from haoban.payouts import repository as repo
from haoban.payouts.ports import BankTransfer, BankUnavailable
from haoban.payouts.repository import PayoutRow

if TYPE_CHECKING:
    from haoban.runtime import Runtime

log = logging.getLogger(__name__)

WORKER = Actor(type="system", id="payout-worker")
SEND_KIND = "payout.send"
FUND_CENTRE_REVERSE_KIND = "fundcentre.reverse"  # haoban.fundcentre.handlers


class BankMismatch(Exception):
    """The bank's record does not match the payout (amount or id): never settle on it."""


class Attempt(msgspec.Struct, frozen=True, kw_only=True):
    """What one attempt did."""

    payout_id: UUID
    outcome: Literal["settled", "reversed", "already_final", "not_found"]
    asked_status: bool = False
    resent: bool = False


def card_aad(payout_id: UUID) -> str:
    return f"payouts:card_no:{payout_id}"


def name_aad(payout_id: UUID) -> str:
    return f"payouts:account_name:{payout_id}"


async def attempt(runtime: Runtime, payout_id: UUID, *, actor: Actor = WORKER) -> Attempt:
    """Send (or look up) one payout and apply the answer.

    Raises BankTimeout / BankUnavailable when there is no answer yet: the payout
    stays `sent` (or `requested` when no bank is configured) and is retried.
    """
    bank = runtime.bank
    if not getattr(bank, "configured", True):
        raise BankUnavailable("no bank is configured")
    now = runtime.clock.now()
    async with unit_of_work(runtime.pool) as conn:
        before = await repo.start_attempt(conn, payout_id, now)
        if before is None:
            missing = await repo.get(conn, payout_id) is None
            return Attempt(payout_id=payout_id, outcome="not_found" if missing else "already_final")
        if before.status == "requested":
            await repo.add_event(conn, payout_id, old="requested", new="sent", actor=actor, reason=None, at=now)
    # No connection is held while the bank is asked.
    answer: BankTransfer | None = None
    asked = before.status == "sent"
    if asked:
        answer = await bank.status(payout_id)
    resent = asked and answer is None
    if answer is None:
        answer = await bank.transfer(
            payout_id=payout_id,
            card_no=runtime.cipher.decrypt(before.card_enc, aad=card_aad(payout_id)).decode(),
            account_name=runtime.cipher.decrypt(before.account_name_enc, aad=name_aad(payout_id)).decode(),
            amount_fen=before.amount_fen,
        )
    if answer.payout_id != payout_id:
        raise BankMismatch(f"asked about payout {payout_id}, the bank answered about {answer.payout_id}")
    outcome = await record_answer(runtime, answer, actor=actor)
    return Attempt(payout_id=payout_id, outcome=outcome, asked_status=asked, resent=resent)


async def record_answer(
    runtime: Runtime, answer: BankTransfer, *, actor: Actor = WORKER
) -> Literal["settled", "reversed", "already_final", "not_found"]:
    """Apply a final answer from the bank (a transfer result, a status lookup or a callback)."""
    now = runtime.clock.now()
    if answer.status == "settled":
        async with unit_of_work(runtime.pool, transaction=False) as conn:
            return await _settle(conn, runtime, answer, actor=actor, at=now)
    async with unit_of_work(runtime.pool) as conn:
        row = await repo.get(conn, answer.payout_id, lock=True)
        if row is None:
            return "not_found"
        _check_amount(row, answer)
        if row.status not in ("requested", "sent", "failed"):
            return "already_final"
        reason = answer.failure_reason or "bank_refused"
        await _fail_and_reverse(conn, runtime, row, reason, actor=actor, at=now)
    events.emit("refused", code=reason, payout=mask_ref(answer.payout_id))
    return "reversed"


def _check_amount(row: PayoutRow, answer: BankTransfer) -> None:
    if row.amount_fen != answer.amount_fen:
        log.error("bank record for payout %s has amount %d, expected %d", row.id, answer.amount_fen, row.amount_fen)
        raise BankMismatch(f"bank amount {answer.amount_fen} != payout amount {row.amount_fen}")


async def _settle(
    conn: asyncpg.Connection, runtime: Runtime, answer: BankTransfer, *, actor: Actor, at: datetime
) -> Literal["settled", "already_final", "not_found"]:
    """Settled, in one statement: the payout with its event and outbox row, clearing -> settlement, the
    closing of an emptied account, and what the listener adds (the application paid)."""
    b = Batch()
    ctes = repo.add_settle(
        b,
        "settle",
        answer.payout_id,
        amount_fen=answer.amount_fen,
        bank_ref=answer.bank_ref,
        actor=actor,
        at=at,
        send_kind=SEND_KIND,
    )
    ledger.add_move(
        b,
        "settlement",
        kind="settlement",
        ref=str(answer.payout_id),
        postings=move(answer.amount_fen, source=CLEARING, target=SETTLEMENT),
        at=at,
        guard=ctes.settled,
    )
    ledger.add_close_emptied(b, "settlement", citizens=ctes.closing, at=at)
    runtime.payout_listener.add_settled(b, "heard", payouts=ctes.settled, at=at)
    done = await repo.run_settle(b, conn, ctes)
    if done is None:
        return "not_found"
    _check_amount(done.row, answer)  # a different amount moved nothing
    if not done.moved:
        return "already_final"
    events.emit("paid", code="settled", payout=mask_ref(answer.payout_id))
    return "settled"


async def _fail_and_reverse(
    conn: asyncpg.Connection, runtime: Runtime, row: PayoutRow, reason: str, *, actor: Actor, at: datetime
) -> None:
    """A permanent failure: record it, put the money back on the member account and (through the outbox)
    on the fund centre's account."""
    if row.status != "failed":
        await repo.set_status(conn, row.id, old=row.status, new="failed", at=at, failure_reason=reason)
        await repo.add_event(conn, row.id, old=row.status, new="failed", actor=actor, reason=reason, at=at)
    await ledger.post_group(
        conn,
        kind="reversal",
        ref=str(row.id),
        postings=move(row.amount_fen, source=CLEARING, target=member_account(row.citizen_id)),
        at=at,
    )
    await repo.set_status(conn, row.id, old="failed", new="reversed", at=at, final=True)
    await repo.add_event(conn, row.id, old="failed", new="reversed", actor=actor, reason=reason, at=at)
    await complete(conn, kind=SEND_KIND, ref=str(row.id), at=at)
    # The fund centre debited the application's instruction; the money it never paid goes back there too.
    await enqueue(
        conn,
        kind=FUND_CENTRE_REVERSE_KIND,
        ref=str(row.application_id),
        payload={"instruction_id": str(row.application_id), "reason": f"payout_failed:{reason}"},
        at=at,
    )
    await runtime.payout_listener.payout_final(
        conn, application_id=row.application_id, payout_id=row.id, status="reversed", reason=reason, at=at
    )
