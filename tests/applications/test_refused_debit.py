"""The deciding statement refuses itself when the balance moved after the facts were read: nothing is written."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.db.pool import unit_of_work
from haoban.db.sql import Template, identifier
from haoban.exchange.consent import service as exchange
from haoban.exchange.consent.service import Pulled
from haoban.kit.clock import FrozenClock
from haoban.ledger import service as ledger
from haoban.ledger.rules import CLEARING, member_account, move
from haoban.runtime import Runtime
from haoban.settings import Settings
from tests.applications import money
from tests.applications.people import apply, person

BALANCE = 3_865_000  # tests/sandbox/bodies.fund
LEFT = 1_000  # what the other movement leaves on the account, below any rent withdrawal
WRITTEN = ("applications", "payouts", "notifications")
_COUNT = Template("SELECT count(*) FROM {table} WHERE citizen_id = $1")


async def test_a_balance_drained_between_facts_and_decision_gives_409_and_writes_nothing(
    client: AsyncTestClient[Litestar],
    db: asyncpg.Connection,
    settings: Settings,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    renter = await person(client, db, settings, clock, seq=881)
    citizen = UUID(renter.citizen_id)
    async with db.transaction():
        await ledger.open_member_account(
            db, citizen_id=citizen, opening_balance_fen=BALANCE, source_ref="test", at=clock.now()
        )
    real_pull = exchange.pull

    async def pull_then_drain(runtime: Runtime, **kwargs: Any) -> Pulled:
        pulled = await real_pull(runtime, **kwargs)
        async with unit_of_work(
            runtime.pool
        ) as conn:  # another movement lands while the rules decide on the old balance
            await ledger.post_group(
                conn,
                kind="payout",
                ref="elsewhere",
                postings=move(BALANCE - LEFT, source=member_account(citizen), target=CLEARING),
                at=clock.now(),
            )
        return pulled

    monkeypatch.setattr(exchange, "pull", pull_then_drain)
    decisions = await db.fetchval("SELECT count(*) FROM decisions")
    response = await apply(client, renter, "hpf.withdraw.rent")

    assert response.status_code == 409, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "insufficient_funds"
    assert await money.member_balance(db, renter.citizen_id) == LEFT
    for table in WRITTEN:
        count = await db.fetchval(_COUNT.render(table=identifier(table, WRITTEN)).text, citizen)
        assert count == 0, table
    assert await db.fetchval("SELECT count(*) FROM decisions") == decisions
    assert await money.unbalanced_groups(db) == 0
