"""Payout values and the sandbox bank's wire Structs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

PayoutStatus = Literal["requested", "sent", "settled", "failed", "reversed"]
FINAL_STATUSES = ("settled", "reversed")


class PayoutView(msgspec.Struct, frozen=True, kw_only=True):
    payout_id: UUID
    application_id: UUID
    amount_fen: int
    status: PayoutStatus
    bank_card_masked: str
    failure_reason: str | None


class PayoutEvent(msgspec.Struct, frozen=True, kw_only=True):
    from_status: str | None
    to_status: str
    actor_type: str
    actor_id: str
    reason: str | None
    occurred_at: datetime


class ReconcileReport(msgspec.Struct, frozen=True, kw_only=True):
    checked: int = 0
    settled: int = 0
    reversed: int = 0
    resent: int = 0  # the bank never had them: sent (with the same payout id)
    still_open: int = 0  # the bank could not be asked or gave no final answer
    unbalanced_groups: int = 0


class BankFaults(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The sandbox bank's fault knobs."""

    latency_ms: Annotated[int, msgspec.Meta(ge=0, le=30_000)] = 0
    failure_rate: Annotated[float, msgspec.Meta(ge=0, le=1)] = 0.0
    timeout_rate: Annotated[float, msgspec.Meta(ge=0, le=1)] = 0.0


class SandboxTransfer(msgspec.Struct, frozen=True, kw_only=True):
    payout_id: UUID
    bank_ref: str
    card_no: str
    account_name: str
    amount_fen: int
    status: Literal["settled", "failed"]
    failure_reason: str | None
    received_at: datetime


class SandboxTransfers(msgspec.Struct, frozen=True, kw_only=True):
    transfers: list[SandboxTransfer]
