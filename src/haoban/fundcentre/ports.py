"""The housing provident fund centre (住房公积金管理中心): the system of record for fund money.

A withdrawal is decided on the balance and withdrawal records the fund centre
answers within the request (the `housing_fund` source), then posted to it as a
debit instruction. The instruction is idempotent on its id (the application's
id): asking again gives the first answer. The fund centre refuses a debit when
its balance is no longer the one the decision saw (`balance_changed`: a counter
withdrawal, a deposit), when it is too low, or when the account cannot be
debited. Haoban's ledger only mirrors what was instructed and paid.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal, Protocol
from uuid import UUID

import msgspec

Refusal = Literal["balance_changed", "insufficient_funds", "account_not_normal", "unknown_account"]


class FundCentreUnavailable(Exception):
    """No usable answer (timeout, transport error, a bad response): the debit's outcome is unknown."""


class DebitInstruction(msgspec.Struct, frozen=True, kw_only=True):
    instruction_id: UUID
    account_no: str
    kind: str  # the fund's withdrawal kind: rent, retirement, loan_repayment
    amount_fen: int
    expected_balance_fen: int  # the balance the decision was made on
    on: date  # the withdrawal day (Asia/Shanghai)
    close_account: bool = False


class DebitAnswer(msgspec.Struct, frozen=True, kw_only=True):
    instruction_id: UUID
    status: Literal["accepted", "refused", "reversed"]
    reason: Refusal | None = None
    balance_after_fen: int | None = None


class PostedDebit(msgspec.Struct, frozen=True, kw_only=True):
    """One instruction as the fund centre holds it (for reconciliation)."""

    instruction_id: UUID
    account_no: str
    amount_fen: int
    status: Literal["accepted", "refused", "reversed"]
    received_at: datetime


class FundCentre(Protocol):
    configured: bool

    async def debit(self, instruction: DebitInstruction) -> DebitAnswer:
        """Post (or ask again about) one debit; raises FundCentreUnavailable."""
        ...

    async def reverse(self, instruction_id: UUID, *, reason: str) -> DebitAnswer | None:
        """Undo an accepted debit that Haoban could not record; None when the fund centre never had it."""
        ...

    async def debits(self, since: datetime) -> list[PostedDebit]:
        """Every instruction received since `since`."""
        ...

    async def balance(self, account_no: str) -> int | None: ...


class NoFundCentre:
    """Production without HAOBAN_FUND_CENTRE_URL: fail closed, nothing is debited or paid."""

    configured = False

    async def debit(self, instruction: DebitInstruction) -> DebitAnswer:
        raise FundCentreUnavailable("no fund centre is configured")

    async def reverse(self, instruction_id: UUID, *, reason: str) -> DebitAnswer | None:
        raise FundCentreUnavailable("no fund centre is configured")

    async def debits(self, since: datetime) -> list[PostedDebit]:
        raise FundCentreUnavailable("no fund centre is configured")

    async def balance(self, account_no: str) -> int | None:
        raise FundCentreUnavailable("no fund centre is configured")
