"""Application reads: the views the citizen sees (decision trace, payout), and reads for other slices.

A page of views costs one query for its decisions and one for its payouts, whatever its size.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Literal
from uuid import UUID

import asyncpg

from haoban.applications import manual_payout
from haoban.applications import repository as repo
from haoban.applications import review_repository as review_repo
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
from haoban.kit.errors import NotFound
from haoban.payouts import service as payouts
from haoban.rules import service as decisions
from haoban.rules.explain import explain_all
from haoban.rules.schemas import Decision, Fact, StoredDecision

_RESULT: dict[bool | None, tuple[str, str]] = {
    True: ("符合", "Met"),
    False: ("不符合", "Not met"),
    None: (
        "未能核实：登记机关暂时没有答复，已转人工审核",
        "Could not be checked: the registry did not answer; a person will review",
    ),
}

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


async def page(
    conn: asyncpg.Connection, citizen_id: UUID, *, before: tuple[datetime, UUID] | None, limit: int
) -> list[ApplicationRow]:
    """The citizen's applications, newest first, up to `limit` older than the `before` keyset (created_at, id)."""
    return await repo.page(conn, citizen_id, before=before, limit=limit)


# --- reads for other slices (the manual lane, materials) ------


async def find(conn: asyncpg.Connection, application_id: UUID, *, for_update: bool = False) -> ApplicationRow | None:
    """An application by id, whoever owns it (row-locked with `for_update`); None when there is none."""
    return await repo.get(conn, application_id, for_update=for_update)


async def review_queue(
    conn: asyncpg.Connection, *, departments: list[str], after: tuple[datetime, UUID] | None, limit: int
) -> list[QueueRow]:
    """Applications waiting for a reviewer in these departments, oldest first (keyset on created_at, id).

    The applicants' names come from their decisions' identity facts, in one query for the page.
    """
    rows = await review_repo.queue(conn, departments=departments, after=after, limit=limit)
    decided = [r.decision_id for r in rows if r.decision_id is not None]
    names = await decisions.applicant_names(conn, decided) if decided else {}
    return [
        QueueRow(
            id=r.id,
            service_code=r.service_code,
            department=r.department,
            status=r.status,
            name=names.get(r.decision_id) if r.decision_id is not None else None,
            created_at=r.created_at,
            updated_at=r.updated_at,
        )
        for r in rows
    ]


async def review_history(conn: asyncpg.Connection, application_id: UUID) -> list[ReviewEvent]:
    """An application's status changes with who made each, oldest first."""
    return await review_repo.history(conn, application_id)


async def amount_on_approval(
    conn: asyncpg.Connection, row: ApplicationRow, stored: StoredDecision | None
) -> int | None:
    """What a reviewer's approval would pay (the rules' amount on the facts on record), or None."""
    return await manual_payout.amount_on_approval(conn, row, stored)
