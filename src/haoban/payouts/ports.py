"""The bank port: one Protocol, a sandbox adapter and an HTTP adapter.

Adapters raise `BankTimeout` when the outcome is unknown (the transfer may or
may not have been applied) and `BankUnavailable` when the bank certainly did
not accept it. A permanent refusal is an answer: a `BankTransfer` with status
`failed` and a reason.
"""

from __future__ import annotations

from typing import Literal, Protocol
from uuid import UUID

import msgspec


class BankTransfer(msgspec.Struct, frozen=True, kw_only=True):
    """The bank's record of one transfer, keyed by our payout id."""

    payout_id: UUID
    card_no: str
    amount_fen: int
    status: Literal["settled", "failed"]
    failure_reason: str | None
    bank_ref: str


class BankTimeout(Exception):
    """Outcome unknown: ask `status` later, never resend with a new id."""


class BankUnavailable(Exception):
    """Not accepted (transient): retry with backoff."""


class Bank(Protocol):
    async def transfer(self, *, payout_id: UUID, card_no: str, account_name: str, amount_fen: int) -> BankTransfer:
        """Idempotent on payout_id: a second call returns the first transfer."""
        ...

    async def status(self, payout_id: UUID) -> BankTransfer | None:
        """None: the bank never got this payout."""
        ...
