"""Wire types of applications."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec

from haoban.applications.lifecycle import Status
from haoban.notifications.schemas import Notification

ServiceCode = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[a-z_.]+$")]
Fen = Annotated[int, msgspec.Meta(ge=0, le=10**12)]


class ApplicationCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    service_code: ServiceCode
    inputs: dict[str, Any] = {}


# A service's `inputs` Struct is built from its declaration (rules/services/*.yaml, rules.declarations.input_struct).


class TraceStepView(msgspec.Struct, frozen=True, kw_only=True):
    rule_id: str
    inputs: dict[str, Any]
    passed: bool | None
    message_zh: str
    message_en: str
    reason: str | None
    # What `passed` means in words: met, not met, or could not be checked (never read null as "not met").
    result_zh: str
    result_en: str


class ExplanationView(msgspec.Struct, frozen=True, kw_only=True):
    """One reason as the citizen reads it: a plain sentence naming the registry, and what to do next."""

    reason: str
    message_zh: str
    message_en: str
    next_zh: str
    next_en: str


class DecisionView(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    decision_id: UUID
    outcome: Literal["approve", "reject", "review", "need_materials"]
    rule_set_version: str
    reasons: list[str]
    trace: list[TraceStepView]
    amount_fen: int | None = None
    # Every reason (and a fund-centre refusal of the debit) in plain words; empty when approved.
    explanations: list[ExplanationView] = msgspec.field(default_factory=list)


PayoutStatus = Literal["processing", "settled", "failed", "reversed"]


class PayoutSummary(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    payout_id: UUID
    amount_fen: int
    status: PayoutStatus
    bank_card_masked: str
    failure_reason: str | None = None


class ApplicationView(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    application_id: UUID
    service_code: str
    status: Status
    created_at: datetime
    updated_at: datetime
    decision: DecisionView | None = None
    payout: PayoutSummary | None = None
    status_reason: str | None = None


class ApplicationEvent(msgspec.Struct, frozen=True, kw_only=True):
    from_status: str | None
    to_status: str
    actor_type: str
    reason: str | None
    occurred_at: datetime


class StatusChange(msgspec.Struct, frozen=True, kw_only=True):
    """One `data:` of the event stream: an application of the caller changed status."""

    event_id: int  # also the SSE `id:`, to resume with Last-Event-ID
    application_id: UUID
    service_code: str
    from_status: str | None
    to_status: str
    reason: str | None
    occurred_at: datetime


class ApplicationDetail(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    application_id: UUID
    service_code: str
    status: Status
    created_at: datetime
    updated_at: datetime
    history: list[ApplicationEvent]
    decision: DecisionView | None = None
    payout: PayoutSummary | None = None
    status_reason: str | None = None


class ApplicationPage(msgspec.Struct, frozen=True, kw_only=True):
    applications: list[ApplicationView]
    next_before: str | None


class ApplicationRow(msgspec.Struct, frozen=True, kw_only=True):
    """The applications row (domain, not wire)."""

    id: UUID
    citizen_id: UUID
    service_code: str
    period: str
    department: str
    status: Status
    status_reason: str | None
    inputs: dict[str, Any]
    decision_id: UUID | None
    outcome: str | None
    amount_fen: int | None
    created_at: datetime
    updated_at: datetime


class NotificationPage(msgspec.Struct, frozen=True, kw_only=True):
    notifications: list[Notification]
    next_before: int | None


class Queued(msgspec.Struct, frozen=True, kw_only=True):
    """An application row waiting for a reviewer (the name comes from its decision, the rules slice's)."""

    id: UUID
    service_code: str
    department: str
    status: str
    decision_id: UUID | None
    created_at: datetime
    updated_at: datetime


class QueueRow(msgspec.Struct, frozen=True, kw_only=True):
    """An application waiting for a reviewer, with the applicant's name from its decision's facts."""

    id: UUID
    service_code: str
    department: str
    status: str
    name: str | None
    created_at: datetime
    updated_at: datetime


class ReviewEvent(msgspec.Struct, frozen=True, kw_only=True):
    """One status change as a reviewer sees it: with who made it (the citizen's history leaves that out)."""

    from_status: str | None
    to_status: str
    actor_type: str
    actor_id: str
    reason: str | None
    occurred_at: datetime
