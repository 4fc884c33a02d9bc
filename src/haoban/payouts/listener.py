"""Who hears about a payout's final state, inside the same transaction as the change."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Protocol
from uuid import UUID

import asyncpg

from haoban.db.batch import Batch


class PayoutListener(Protocol):
    async def payout_final(
        self,
        conn: asyncpg.Connection,
        *,
        application_id: UUID,
        payout_id: UUID,
        status: Literal["settled", "reversed"],
        reason: str | None,
        at: datetime,
    ) -> None: ...

    def add_settled(self, b: Batch, *, payouts: str, at: datetime) -> None:
        """Add what follows a settled payout to its statement; `payouts` names a CTE with application_id."""


class NoPayoutListener:
    """The default until the applications domain installs its own (`runtime.payout_listener`)."""

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
        return None

    def add_settled(self, b: Batch, *, payouts: str, at: datetime) -> None:
        return None
