"""Payout use cases: request (in the caller's transaction), settle within a budget, read.

The bank is never called inside a transaction: `request_payout` writes the
ledger movement, the payout row and an outbox row; after commit either
`settle_within` (the request, for "秒到账") or the outbox worker sends it.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Coroutine
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID, uuid4

import asyncpg
import msgspec

from haoban.audit.schemas import Actor
from haoban.db.batch import Batch, refused
from haoban.db.pool import unit_of_work
from haoban.db.sql import Cte, Template
from haoban.kit.crypto import FieldCipher
from haoban.kit.errors import Conflict, FieldError, ValidationFailed
from haoban.kit.masking import mask_card
from haoban.ledger import service as ledger
from haoban.ledger.rules import CLEARING, member_account, move
from haoban.outbox import service as outbox
from haoban.outbox.worker import backoff, claim_one, run_item
from haoban.payouts import repository as repo
from haoban.payouts.handlers import SEND_KIND, send_payout
from haoban.payouts.ports import BankTransfer, BankUnavailable
from haoban.payouts.reconcile import reconcile
from haoban.payouts.repository import Instructed, PayoutRow
from haoban.payouts.schemas import FINAL_STATUSES, PayoutEvent, PayoutView, ReconcileReport
from haoban.payouts.settlement import BankMismatch, card_aad, name_aad, record_answer

if TYPE_CHECKING:
    from haoban.runtime import Runtime

__all__ = [
    "Instructed",
    "PayoutView",
    "ReconcileReport",
    "add_request",
    "events",
    "for_application",
    "get",
    "reconcile",
    "request_payout",
    "send_claimed",
    "settle_within",
]

log = logging.getLogger(__name__)
_CARD = re.compile(r"^\d{12,19}$")
_POLL_S = 0.05
# Attempts started by settle_within that outlive its budget; kept so they are not collected.
_background: set[asyncio.Task[Any]] = set()
T = TypeVar("T")
_WRITTEN = Template("SELECT count(*) AS n FROM {payout}")


class PayoutExists(Conflict):
    code = "payout_exists"


def view(row: PayoutRow) -> PayoutView:
    return PayoutView(
        payout_id=row.id,
        application_id=row.application_id,
        amount_fen=row.amount_fen,
        status=row.status,
        bank_card_masked=row.card_masked,
        failure_reason=row.failure_reason,
    )


async def request_payout(
    conn: asyncpg.Connection,
    *,
    application_id: UUID,
    citizen_id: UUID,
    amount_fen: int,
    bank_name: str,
    card_no: str,
    account_name: str,
    close_account: bool,
    actor: Actor,
    at: datetime,
    cipher: FieldCipher | None = None,
    claimed_until: datetime | None = None,
) -> PayoutView:
    """`add_request` as its own statement in the caller's transaction (a savepoint).

    Member -> clearing, payout `requested`, outbox `payout.send`; with
    `claimed_until` it is written `sent` for the caller to send after commit.
    Raises InsufficientFunds (409, or another reason) when the member balance
    can't cover it, under any concurrency; with `close_account` the amount must
    be the whole balance. `cipher` (runtime.cipher) encrypts the card number and
    account name at rest.
    """
    if cipher is None:
        raise TypeError("request_payout needs cipher=runtime.cipher: card numbers are stored encrypted")
    b = Batch()
    claim, _, payout = add_request(
        b,
        "payout",
        application_id=application_id,
        citizen_id=citizen_id,
        amount_fen=amount_fen,
        bank_name=bank_name,
        card_no=card_no,
        account_name=account_name,
        close_account=close_account,
        actor=actor,
        at=at,
        cipher=cipher,
        claimed_until=claimed_until,
    )
    refusal: str | None = None
    try:
        async with conn.transaction():
            written = await b.fetchrow(conn, b.sql(_WRITTEN, payout=payout))
            if written is None or written["n"] != 1:
                raise PayoutExists("this application already has a payout")
    except asyncpg.PostgresError as exc:
        refusal = refused(exc)
        if refusal != ledger.DEBIT_REFUSED:
            raise
    if refusal is not None:
        raise await debit_refusal(conn, claim)
    return claim.view


class Claim(msgspec.Struct, frozen=True, kw_only=True):
    """A requested payout with what the bank needs (kept in memory only, never logged)."""

    view: PayoutView
    citizen_id: UUID
    card_no: str
    account_name: str


def _checked_card(card_no: str, amount_fen: int) -> str:
    card = card_no.replace(" ", "")
    if not _CARD.match(card):
        raise ValidationFailed(
            "the bank card number must be 12 to 19 digits",
            errors=[FieldError(field="card_no", reason="must be 12 to 19 digits")],
        )
    if amount_fen <= 0:
        raise ValidationFailed("the amount must be positive", errors=[FieldError(field="amount_fen", reason="> 0")])
    return card


def add_request(
    b: Batch,
    prefix: str,
    *,
    application_id: UUID,
    citizen_id: UUID,
    amount_fen: int,
    bank_name: str,
    card_no: str,
    account_name: str,
    close_account: bool,
    actor: Actor,
    at: datetime,
    cipher: FieldCipher,
    claimed_until: datetime | None,
) -> tuple[Claim, Cte, Cte]:
    """A payout request as CTEs of a larger statement; returns the claim, a guard CTE and the payout's CTE.

    With `claimed_until` the payout is written `sent` and its outbox row is
    leased to the caller, which sends it after commit (`send_claimed`).

    The guard has a row when the member debit applied; other writes of the
    statement should depend on it. When the balance can't cover the amount the
    statement is refused (`ledger.DEBIT_REFUSED`) and nothing is written.
    """
    card = _checked_card(card_no, amount_fen)
    payout_id = uuid4()
    guard = ledger.add_member_debit(
        b,
        f"{prefix}_ledger",
        kind="payout",
        ref=str(payout_id),
        postings=move(amount_fen, source=member_account(citizen_id), target=CLEARING),
        at=at,
        exact_debit=close_account,
    )
    payout = repo.add_payout(
        b,
        prefix,
        payout_id=payout_id,
        application_id=application_id,
        citizen_id=citizen_id,
        amount_fen=amount_fen,
        bank_name=bank_name,
        card_enc=cipher.encrypt(card.encode(), aad=card_aad(payout_id)),
        card_masked=mask_card(card),
        account_name_enc=cipher.encrypt(account_name.encode(), aad=name_aad(payout_id)),
        close_account=close_account,
        actor=actor,
        at=at,
        send_kind=SEND_KIND,
        claimed_until=claimed_until,
        guard=guard,
    )
    view = PayoutView(
        payout_id=payout_id,
        application_id=application_id,
        amount_fen=amount_fen,
        status="sent" if claimed_until is not None else "requested",
        bank_card_masked=mask_card(card),
        failure_reason=None,
    )
    return Claim(view=view, citizen_id=citizen_id, card_no=card, account_name=account_name), guard, payout


async def debit_refusal(conn: asyncpg.Connection, claim: Claim) -> Conflict:
    """Why the member debit of a refused `add_request` statement did not apply (409)."""
    return await ledger.debit_refusal(
        conn, move(claim.view.amount_fen, source=member_account(claim.citizen_id), target=CLEARING)
    )


async def for_application(conn: asyncpg.Connection, application_id: UUID) -> PayoutView | None:
    row = await repo.for_application(conn, application_id)
    return view(row) if row else None


async def for_applications(conn: asyncpg.Connection, application_ids: list[UUID]) -> dict[UUID, PayoutView]:
    return {a: view(row) for a, row in (await repo.for_applications(conn, application_ids)).items()}


async def get(conn: asyncpg.Connection, payout_id: UUID) -> PayoutView | None:
    row = await repo.get(conn, payout_id)
    return view(row) if row else None


async def events(conn: asyncpg.Connection, payout_id: UUID) -> list[PayoutEvent]:
    return await repo.events(conn, payout_id)


async def _current(runtime: Runtime, payout_id: UUID) -> PayoutView:
    async with unit_of_work(runtime.pool, transaction=False) as conn:
        found = await get(conn, payout_id)
    if found is None:
        raise LookupError(f"no payout {payout_id}")
    return found


async def _within(work: Coroutine[Any, Any, T], budget_s: float) -> asyncio.Task[T]:
    """Start `work` (kept alive past the budget) and wait at most `budget_s` for it."""
    task = asyncio.create_task(work)
    _background.add(task)
    task.add_done_callback(_background.discard)
    await asyncio.wait({task}, timeout=max(budget_s, 0.0))
    return task


async def settle_within(runtime: Runtime, payout_id: UUID, budget_s: float) -> PayoutView:
    """After commit: send now and return once final, or when the budget runs out.

    The attempt takes the payout's outbox row (so the worker does not send it at
    the same time). If the budget runs out first the attempt carries on in the
    background and finishes the row; the caller sees `sent` or `requested`.
    If the worker already holds the row, this only waits for its outcome.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + max(budget_s, 0.0)
    item = await claim_one(runtime, kind=SEND_KIND, ref=str(payout_id), settings=runtime.outbox)
    if item is not None:
        attempt = await _within(
            run_item(runtime, item, {SEND_KIND: send_payout}, runtime.outbox), deadline - loop.time()
        )
        if attempt.done():
            return await _current(runtime, payout_id)
    while True:
        current = await _current(runtime, payout_id)
        remaining = deadline - loop.time()
        if current.status in FINAL_STATUSES or remaining <= 0:
            return current
        await asyncio.sleep(min(_POLL_S, remaining))


async def _send(runtime: Runtime, claim: Claim) -> str | None:
    """Transfer and apply the answer; on no answer hand the payout to the worker. Returns the outcome."""
    payout_id = claim.view.payout_id
    try:
        if not getattr(runtime.bank, "configured", True):
            raise BankUnavailable("no bank is configured")
        answer: BankTransfer = await runtime.bank.transfer(
            payout_id=payout_id,
            card_no=claim.card_no,
            account_name=claim.account_name,
            amount_fen=claim.view.amount_fen,
        )
        if answer.payout_id != payout_id:
            raise BankMismatch(f"asked about payout {payout_id}, the bank answered about {answer.payout_id}")
        return await record_answer(runtime, answer)
    except Exception as exc:  # noqa: BLE001 (any failure: the worker retries with backoff)
        retry_at = runtime.clock.now() + backoff(1, runtime.outbox)
        log.warning("payout %s: send failed (%s); the worker retries at %s", payout_id, type(exc).__name__, retry_at)
        async with unit_of_work(runtime.pool, transaction=False) as conn:
            await outbox.release(
                conn, kind=SEND_KIND, ref=str(payout_id), available_at=retry_at, error=f"{type(exc).__name__}: {exc}"
            )
        return None


async def send_claimed(runtime: Runtime, claim: Claim, budget_s: float) -> PayoutView:
    """After commit: send a claimed payout and return once final, or `sent` when the budget runs out.

    An attempt that outlives the budget carries on in the background; one that
    fails leaves the payout to the outbox worker. Only an odd outcome is re-read.
    """
    task = await _within(_send(runtime, claim), budget_s)
    if not task.done():
        return claim.view
    if task.result() == "settled":
        return msgspec.structs.replace(claim.view, status="settled")
    return await _current(runtime, claim.view.payout_id)


async def instructed_since(conn: asyncpg.Connection, since: datetime) -> list[Instructed]:
    """Every payout created since `since` (the fund-centre reconciliation's local side)."""
    return await repo.instructed_since(conn, since)


async def open_counts(conn: asyncpg.Connection) -> list[repo.StatusCount]:
    """Payouts not yet final, by status (for /metrics)."""
    return await repo.open_counts(conn)
