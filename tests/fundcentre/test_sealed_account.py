"""The sandbox fund centre pays from a sealed account only the debit that empties and closes it (销户提取)."""

from __future__ import annotations

import uuid
from datetime import date

import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.fundcentre.ports import DebitInstruction
from haoban.kit.clock import FrozenClock
from haoban.settings import Settings
from haoban.simulators.fundcentre import repository as sandbox_repository
from tests.applications.people import person

Client = AsyncTestClient[Litestar]
BALANCE = 3_865_000  # tests/sandbox/bodies.fund


def _debit(account_no: str, amount_fen: int, *, close: bool) -> DebitInstruction:
    return DebitInstruction(
        instruction_id=uuid.uuid4(),
        account_no=account_no,
        kind="leave_city",
        amount_fen=amount_fen,
        expected_balance_fen=BALANCE,
        on=date(2026, 12, 1),
        close_account=close,
    )


async def test_a_sealed_account_pays_only_a_closing_debit_of_the_whole_balance(
    client: Client, db: asyncpg.Connection, settings: Settings, clock: FrozenClock
) -> None:
    await person(client, db, settings, clock, seq=761, fund={"status": "sealed"})
    account = "ZZ000761"
    for partial in (_debit(account, 1_000, close=True), _debit(account, BALANCE, close=False)):
        answer = await sandbox_repository.debit(db, partial, clock.now())
        assert answer is not None
        assert (answer.status, answer.reason) == ("refused", "account_not_normal")
    answer = await sandbox_repository.debit(db, _debit(account, BALANCE, close=True), clock.now())
    assert answer is not None
    assert (answer.status, answer.balance_after_fen) == ("accepted", 0)
    status = await db.fetchval("SELECT status FROM shared.hpf_accounts WHERE account_no = $1", account)
    assert status == "closed"
