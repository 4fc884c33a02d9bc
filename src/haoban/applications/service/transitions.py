"""Application status changes: each one audited, notified and put on the outbox; the payout listener.

Every transition writes an application event, an audit row, a notification and
an outbox row in the caller's transaction, in one statement. Services never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Literal
from uuid import UUID

import asyncpg
import msgspec

from haoban.applications import lifecycle, manual_payout, notices
from haoban.applications import repository as repo
from haoban.applications.lifecycle import Status
from haoban.applications.schemas import ApplicationRow
from haoban.audit.schemas import Actor
from haoban.catalog.data import BY_CODE
from haoban.db.batch import Batch
from haoban.db.sql import Cte
from haoban.fundcentre.ports import FundCentre
from haoban.kit.crypto import FieldCipher
from haoban.kit.errors import Conflict, NotFound

NOTIFY_KIND = "notification.deliver"


class InvalidTransition(Conflict):
    code = "invalid_transition"


def _step(
    row: ApplicationRow,
    from_status: Status | None,
    to: Status,
    *,
    actor: Actor,
    reason: str | None,
    note: tuple[str, str] | None = None,
) -> repo.Step:
    details: dict[str, str | None]
    if from_status is None:
        action, details = "application.submitted", {"service_code": row.service_code, "period": row.period}
    else:
        action, details = f"application.{to}", {"from": from_status, "reason": reason}
    return repo.Step(
        from_status=from_status,
        to_status=to,
        actor_type=actor.type,
        actor_id=actor.id,
        reason=reason,
        action=action,
        details=details,
        reference=notices.reference(row.id, to),
        texts=notices.texts(row.service_code, to, reason, note=note),
    )


class Move(msgspec.Struct, frozen=True, kw_only=True):
    """A status change decided in the same request that submits the application."""

    to: Status
    actor: Actor
    reason: str | None = None


def _steps(row: ApplicationRow, actor: Actor, moves: Sequence[Move]) -> tuple[list[repo.Step], Status, str | None]:
    steps = [_step(row, None, "submitted", actor=actor, reason=None)]
    status: Status = "submitted"
    reason: str | None = None
    for move in moves:
        if not lifecycle.can_move(status, move.to):
            raise InvalidTransition(f"An application that is {status} cannot become {move.to}.")
        steps.append(_step(row, status, move.to, actor=move.actor, reason=move.reason))
        status, reason = move.to, move.reason
    return steps, status, reason


def add_new(
    b: Batch,
    prefix: str,
    row: ApplicationRow,
    *,
    actor: Actor,
    at: datetime,
    moves: Sequence[Move] = (),
    guard: Cte | None = None,
    payee_enc: str | None = None,
) -> ApplicationRow:
    """A submitted application, already moved along `moves`, with every step's rows, as CTEs of `b`.

    Each step writes its event, audit row, notification and outbox row, exactly
    as `transition` would; raises InvalidTransition before adding anything.
    Returns the row as it will be once the statement runs.
    """
    steps, status, reason = _steps(row, actor, moves)
    final = msgspec.structs.replace(row, status=status, status_reason=reason, updated_at=at)
    repo.add_new(b, prefix, final, steps, at=at, notify_kind=NOTIFY_KIND, guard=guard, payee_enc=payee_enc)
    return final


async def transition(
    conn: asyncpg.Connection,
    application_id: UUID,
    to: Status,
    *,
    actor: Actor,
    reason: str | None,
    at: datetime,
    note: tuple[str, str] | None = None,
) -> ApplicationRow:
    """Move an application along the state machine (row-locked); 409 when the move is not allowed.

    `note` (zh, en) is added to the citizen's notification, for example the materials that were missing."""
    row = await repo.get(conn, application_id, for_update=True)
    if row is None:
        raise NotFound("There is no such application.")
    return await _move(conn, row, to, actor=actor, reason=reason, at=at, note=note)


async def record_tolerant_acceptance(
    conn: asyncpg.Connection,
    row: ApplicationRow,
    *,
    actor: Actor,
    deadline: date,
    missing: list[tuple[str, str]],
    at: datetime,
) -> None:
    """容缺受理 happened: one history entry and one notification with the deadline (the status stays)."""
    step = repo.Step(
        from_status=row.status,
        to_status=row.status,
        actor_type=actor.type,
        actor_id=actor.id,
        reason="tolerant_acceptance",
        action="application.tolerant_accepted",
        details={"deadline": deadline.isoformat(), "missing": ", ".join(en for _zh, en in missing)},
        reference=notices.reference(row.id, "tolerant_acceptance"),
        texts=notices.tolerant(row.service_code, deadline, missing),
    )
    if await repo.move_with_history(conn, row.id, step, at=at, notify_kind=NOTIFY_KIND) is None:
        raise LookupError(f"application {row.id} is no longer {row.status}")


async def _move(
    conn: asyncpg.Connection,
    row: ApplicationRow,
    to: Status,
    *,
    actor: Actor,
    reason: str | None,
    at: datetime,
    note: tuple[str, str] | None = None,
) -> ApplicationRow:
    """The transition of a row this transaction has locked: status, event, audit, notification, outbox."""
    if not lifecycle.can_move(row.status, to):
        raise InvalidTransition(
            f"An application that is {row.status} cannot become {to}.",
            extra={"status": row.status, "to": to},
        )
    step = _step(row, row.status, to, actor=actor, reason=reason, note=note)
    updated = await repo.move_with_history(conn, row.id, step, at=at, notify_kind=NOTIFY_KIND)
    if updated is None:  # the caller holds the row lock, so nobody moved it
        raise LookupError(f"application {row.id} is no longer {row.status}")
    return updated


_PAID_TEXTS = {code: notices.texts(code, "paid", None) for code in BY_CODE}  # the same for every payout


class PayoutFinal:
    """The ledger's listener: a settled payout pays the application, a reversed one cancels it."""

    def add_settled(self, b: Batch, prefix: str, *, payouts: Cte, at: datetime) -> None:
        """The application of a settled payout moves approved -> paid in the same statement (with its rows)."""
        repo.add_paid(
            b,
            prefix,
            payouts,
            actor_type="system",
            actor_id="payouts",
            at=at,
            texts=_PAID_TEXTS,
            notify_kind=NOTIFY_KIND,
        )

    async def payout_final(
        self,
        conn: asyncpg.Connection,
        *,
        application_id: UUID,
        payout_id: UUID,
        status: Literal["settled", "reversed"],
        reason: str | None,
        at: datetime,
    ) -> None:
        row = await repo.get(conn, application_id, for_update=True)
        if row is None or row.status != "approved":
            return  # already moved on (a redelivered outcome)
        actor = Actor(type="system", id="payouts")
        if status == "settled":
            await _move(conn, row, "paid", actor=actor, reason=None, at=at)
        else:
            why = f"payout_failed: {reason}" if reason else "payout_failed"
            await _move(conn, row, "cancelled", actor=actor, reason=why, at=at)


async def cancel(conn: asyncpg.Connection, row: ApplicationRow, *, actor: Actor, at: datetime) -> ApplicationRow:
    if row.status not in lifecycle.CITIZEN_CANCELLABLE:
        raise InvalidTransition(f"An application that is {row.status} cannot be cancelled.")
    return await transition(conn, row.id, "cancelled", actor=actor, reason="cancelled_by_applicant", at=at)


async def prune_keys(conn: asyncpg.Connection, now: datetime) -> int:
    """Delete the idempotency keys that expired before `now`; returns how many."""
    return await repo.prune_keys(conn, now)


# --- a reviewer's decision (the manual lane decides, applications carries it out) ---


async def decide_reviewed(
    conn: asyncpg.Connection,
    application_id: UUID,
    to: Literal["approved", "rejected"],
    *,
    actor: Actor,
    reason: str | None,
    at: datetime,
    cipher: FieldCipher,
    fund_centre: FundCentre,
) -> ApplicationRow:
    """A reviewer's approval or rejection; an approved withdrawal requests its payout in the same transaction."""
    row = await transition(conn, application_id, to, actor=actor, reason=reason, at=at)
    if to == "approved" and manual_payout.pays_out(row):
        await manual_payout.pay_after_review(conn, cipher, row, actor=actor, at=at, fund_centre=fund_centre)
    return row
