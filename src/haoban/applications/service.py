"""Application use cases: transitions (audited, notified), views, the payout listener.

Every transition writes an application event, an audit row, a notification and
an outbox row in the caller's transaction, in one statement. Services never commit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Literal
from uuid import UUID

import asyncpg
import msgspec

from haoban.applications import lifecycle, manual_payout, notices
from haoban.applications import repository as repo
from haoban.applications import review_repository as review_repo
from haoban.applications.lifecycle import Status
from haoban.applications.schemas import (
    ApplicationDetail,
    ApplicationRow,
    ApplicationView,
    DecisionView,
    ExplanationView,
    PayoutSummary,
    QueueRow,
    ReviewEvent,
    TraceStepView,
)
from haoban.audit.schemas import Actor
from haoban.catalog.data import BY_CODE
from haoban.db.batch import Batch
from haoban.db.sql import Cte
from haoban.fundcentre.ports import FundCentre
from haoban.kit.crypto import FieldCipher
from haoban.kit.errors import Conflict, NotFound
from haoban.payouts import service as payouts
from haoban.rules import service as decisions
from haoban.rules.explain import explain_all
from haoban.rules.schemas import Decision, Fact, StoredDecision

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


_RESULT: dict[bool | None, tuple[str, str]] = {
    True: ("符合", "Met"),
    False: ("不符合", "Not met"),
    None: (
        "未能核实：登记机关暂时没有答复，已转人工审核",
        "Could not be checked: the registry did not answer; a person will review",
    ),
}

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


_WIRE_STATUS: dict[str, Literal["processing", "settled", "failed", "reversed"]] = {
    "requested": "processing",
    "sent": "processing",
    "settled": "settled",
    "failed": "failed",
    "reversed": "reversed",
}


def payout_summary(view: payouts.PayoutView | None) -> PayoutSummary | None:
    if view is None:
        return None
    status = _WIRE_STATUS[view.status]
    return PayoutSummary(
        payout_id=view.payout_id,
        amount_fen=view.amount_fen,
        status=status,
        bank_card_masked=view.bank_card_masked,
        failure_reason=view.failure_reason,
    )


def decision_view(
    decision_id: UUID, d: Decision, facts: Mapping[str, Fact] | None = None, status_reason: str | None = None
) -> DecisionView:
    return DecisionView(
        decision_id=decision_id,
        outcome=d.outcome,
        rule_set_version=d.rule_set_version,
        amount_fen=d.amount_fen,
        reasons=list(d.reasons),
        explanations=[
            ExplanationView(
                reason=e.reason, message_zh=e.message_zh, message_en=e.message_en, next_zh=e.next_zh, next_en=e.next_en
            )
            for e in explain_all(d, facts or {}, status_reason=status_reason)
        ],
        trace=[
            TraceStepView(
                rule_id=t.rule_id,
                inputs=dict(t.inputs),
                passed=t.passed,
                message_zh=t.message_zh,
                message_en=t.message_en,
                reason=t.reason,
                result_zh=_RESULT[t.passed][0],
                result_en=_RESULT[t.passed][1],
            )
            for t in d.trace
        ],
    )


async def view(conn: asyncpg.Connection, row: ApplicationRow) -> ApplicationView:
    (one,) = await views(conn, [row])
    return one


async def views(conn: asyncpg.Connection, rows: list[ApplicationRow]) -> list[ApplicationView]:
    """A page of views: its decisions and payouts in one query each, whatever the page size."""
    decided = [r.decision_id for r in rows if r.decision_id is not None]
    stored = await decisions.get_decisions(conn, decided) if decided else {}
    paid = await payouts.for_applications(conn, [r.id for r in rows])
    return [
        ApplicationView(
            application_id=row.id,
            service_code=row.service_code,
            status=row.status,
            status_reason=row.status_reason,
            created_at=row.created_at,
            updated_at=row.updated_at,
            decision=_stored_view(row.decision_id, stored, row.status_reason),
            payout=payout_summary(paid.get(row.id)),
        )
        for row in rows
    ]


def _stored_view(
    decision_id: UUID | None, stored: dict[UUID, StoredDecision], status_reason: str | None
) -> DecisionView | None:
    found = stored.get(decision_id) if decision_id is not None else None
    if decision_id is None or found is None:
        return None
    return decision_view(decision_id, found.decision, found.facts, status_reason)


async def detail(conn: asyncpg.Connection, row: ApplicationRow) -> ApplicationDetail:
    v = await view(conn, row)
    return ApplicationDetail(
        application_id=v.application_id,
        service_code=v.service_code,
        status=v.status,
        status_reason=v.status_reason,
        created_at=v.created_at,
        updated_at=v.updated_at,
        decision=v.decision,
        payout=v.payout,
        history=await repo.events(conn, row.id),
    )


async def owned(conn: asyncpg.Connection, application_id: UUID, citizen_id: UUID) -> ApplicationRow:
    """The citizen's own application; another citizen's is indistinguishable from none (404)."""
    row = await repo.get_owned(conn, application_id, citizen_id)
    if row is None:
        raise NotFound("There is no such application.")
    return row


async def cancel(conn: asyncpg.Connection, row: ApplicationRow, *, actor: Actor, at: datetime) -> ApplicationRow:
    if row.status not in lifecycle.CITIZEN_CANCELLABLE:
        raise InvalidTransition(f"An application that is {row.status} cannot be cancelled.")
    return await transition(conn, row.id, "cancelled", actor=actor, reason="cancelled_by_applicant", at=at)


# --- reads for other slices (the manual lane, materials, housekeeping) ------


async def find(conn: asyncpg.Connection, application_id: UUID, *, for_update: bool = False) -> ApplicationRow | None:
    """An application by id, whoever owns it (row-locked with `for_update`); None when there is none."""
    return await repo.get(conn, application_id, for_update=for_update)


async def review_queue(
    conn: asyncpg.Connection, *, departments: list[str], after: tuple[datetime, UUID] | None, limit: int
) -> list[QueueRow]:
    """Applications waiting for a reviewer in these departments, oldest first (keyset on created_at, id)."""
    return await review_repo.queue(conn, departments=departments, after=after, limit=limit)


async def review_history(conn: asyncpg.Connection, application_id: UUID) -> list[ReviewEvent]:
    """An application's status changes with who made each, oldest first."""
    return await review_repo.history(conn, application_id)


async def prune_keys(conn: asyncpg.Connection, now: datetime) -> int:
    """Delete the idempotency keys that expired before `now`; returns how many."""
    return await repo.prune_keys(conn, now)


# --- a reviewer's decision (the manual lane decides, applications carries it out) ---


async def amount_on_approval(
    conn: asyncpg.Connection, row: ApplicationRow, stored: StoredDecision | None
) -> int | None:
    """What a reviewer's approval would pay (the rules' amount on the facts on record), or None."""
    return await manual_payout.amount_on_approval(conn, row, stored)


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
