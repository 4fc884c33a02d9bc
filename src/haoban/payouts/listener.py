"""Who hears about a payout's final state, inside the same transaction as the change."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Protocol
from uuid import UUID

import asyncpg

from haoban.db.batch import Batch
from haoban.db.sql import Cte


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

    def add_settled(self, b: Batch, prefix: str, *, payouts: Cte, at: datetime) -> None:
        """Add what follows a settled payout to its statement (CTEs named `<prefix>_...`); `payouts` has
        columns id, application_id and amount_fen."""


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

    def add_settled(self, b: Batch, prefix: str, *, payouts: Cte, at: datetime) -> None:
        return None
