"""Small money factories and fixtures for the ledger, payout and outbox tests.

Import fixtures into a test module: `from tests.payouts.money import money_runtime`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from uuid import UUID, uuid4

import asyncpg
import pytest

from haoban.audit.schemas import Actor
from haoban.db.pool import create_pool, unit_of_work
from haoban.kit.clock import SystemClock
from haoban.ledger import service as ledger
from haoban.ledger.rules import CLEARING, CONTRIBUTIONS, SETTLEMENT
from haoban.outbox.settings import WorkerSettings
from haoban.payouts import service as payouts
from haoban.payouts.schemas import BankFaults, PayoutView
from haoban.root import build_runtime
from haoban.runtime import Runtime
from haoban.simulators.bank.adapter import SandboxBank
from haoban.simulators.bank.repository import set_faults
from tests.conftest import make_settings

CARD = "6222020200112233445"
CLOSED_CARD = "6222020200112230000"
APPLICANT = Actor(type="citizen", id="tests")
FAST = WorkerSettings(poll_ms=20, batch=10, lease_s=5, backoff_base_ms=10, backoff_max_s=1)


def now() -> datetime:
    return datetime.now(UTC)


async def new_citizen(conn: asyncpg.Connection) -> UUID:
    citizen_id: UUID = await conn.fetchval("INSERT INTO citizens DEFAULT VALUES RETURNING id")
    return citizen_id


async def funded_member(conn: asyncpg.Connection, balance_fen: int) -> UUID:
    citizen_id = await new_citizen(conn)
    async with conn.transaction():
        await ledger.open_member_account(
            conn, citizen_id=citizen_id, opening_balance_fen=balance_fen, source_ref="tests", at=now()
        )
    return citizen_id


async def request(
    runtime: Runtime,
    citizen_id: UUID,
    amount_fen: int,
    *,
    card_no: str = CARD,
    close_account: bool = False,
    application_id: UUID | None = None,
) -> PayoutView:
    """A payout request committed in its own transaction, as an application would make it."""
    async with unit_of_work(runtime.pool) as conn:
        return await payouts.request_payout(
            conn,
            application_id=application_id or uuid4(),
            citizen_id=citizen_id,
            amount_fen=amount_fen,
            bank_name="中国工商银行",
            card_no=card_no,
            account_name="张三",
            close_account=close_account,
            actor=APPLICANT,
            at=now(),
            cipher=runtime.cipher,
        )


async def faults(runtime: Runtime, **values: float) -> None:
    await set_faults(runtime.pool, BankFaults(**values), now())  # type: ignore[arg-type]


async def assert_ledger_consistent(conn: asyncpg.Connection) -> None:
    """Every group balances, member balance columns match their entries, all balances sum to zero."""
    assert await ledger.unbalanced_groups(conn) == []
    assert await ledger.member_balance_drift(conn) == []
    members = await conn.fetchval("SELECT coalesce(sum(balance_fen), 0) FROM ledger_accounts WHERE kind = 'member'")
    system = sum([await ledger.account_balance(conn, code) for code in (CONTRIBUTIONS, CLEARING, SETTLEMENT)])
    assert members + system == 0


@pytest.fixture
async def money_runtime(db_url: str) -> AsyncIterator[Runtime]:
    """A runtime with a pool, the sandbox bank and a fast outbox; the real system clock."""
    settings = make_settings(db_url)
    runtime = build_runtime(settings, database_url=db_url, clock=SystemClock())
    pool = await create_pool(db_url, settings.database)
    runtime.attach_pool(pool)
    runtime.attach(bank=SandboxBank(pool, runtime.clock))
    runtime.outbox = FAST
    try:
        yield runtime
    finally:
        await pool.close()
