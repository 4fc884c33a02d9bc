"""What an instant withdrawal costs the database: a handful of statements and no explicit transaction.

The speed target of the instant path (bench/run_applications.py) depends on
round trips; this guards the count, not a time. Every write of a step is one
statement that is atomic on its own (haoban.db.batch), so the hot path needs no
BEGIN/COMMIT.
"""

from __future__ import annotations

from uuid import UUID

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

import haoban.db.pool as db_pool
from haoban.kit.clock import FrozenClock
from haoban.ledger import service as ledger
from haoban.settings import Settings
from tests.applications.people import apply, person

# Token check; authorisation (live check, consent, ledger facts); three source reads; access log;
# decision; the sandbox bank's booking (its fault knobs are remembered for a second); settlement.
# 10 since issue 12: the household rule reads the marriage registry (one front-end read; a married
# applicant adds the spouse's estate read).
# 11 since issue 12's fund centre: the debit instruction posted to the (sandbox) fund centre, the system of
# record, before the deciding statement; the mirror needs no sync when it already holds the fund's balance.
BUDGET = 11
# asyncpg's own, once per connection and type (codec introspection runs with JIT off).
DRIVER = ("WITH RECURSIVE typeinfo_tree", "SELECT current_setting('jit')", "SELECT set_config('jit'")


@pytest.fixture(autouse=True)
def statements(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every statement the app's pool runs (autouse: set up before the app opens its pool)."""
    seen: list[str] = []
    init = db_pool._init_connection

    def log(record: asyncpg.connection.LoggedQuery) -> None:
        query = " ".join(record.query.split())
        if not query.startswith(DRIVER):
            seen.append(query)

    async def logged(conn: asyncpg.Connection) -> None:
        await init(conn)
        conn.add_query_logger(log)

    monkeypatch.setattr(db_pool, "_init_connection", logged)
    return seen


async def test_a_paid_withdrawal_is_a_handful_of_statements_without_begin(
    client: AsyncTestClient[Litestar],
    db: asyncpg.Connection,
    settings: Settings,
    clock: FrozenClock,
    statements: list[str],
) -> None:
    warm = await person(client, db, settings, clock, seq=870)  # fills the signing-key and rule-set caches
    assert (await apply(client, warm, "hpf.withdraw.rent")).json()["status"] == "paid"
    renter = await person(client, db, settings, clock, seq=871)
    async with db.transaction():
        await ledger.open_member_account(
            db, citizen_id=UUID(renter.citizen_id), opening_balance_fen=3_865_000, source_ref="test", at=clock.now()
        )
    statements.clear()
    response = await apply(client, renter, "hpf.withdraw.rent")
    assert response.status_code == 201, response.text
    assert (response.json()["status"], response.json()["payout"]["status"]) == ("paid", "settled")
    assert not [s for s in statements if s.upper().startswith(("BEGIN", "COMMIT"))], statements
    assert len(statements) <= BUDGET, "\n".join(statements)
    assert sum("sandbox_fund.debits" in s for s in statements) == 1  # the fund-centre round trip, once


async def test_a_first_withdrawal_also_opens_the_member_account_in_its_own_transaction(
    client: AsyncTestClient[Litestar],
    db: asyncpg.Connection,
    settings: Settings,
    clock: FrozenClock,
    statements: list[str],
) -> None:
    renter = await person(client, db, settings, clock, seq=872)
    statements.clear()
    response = await apply(client, renter, "hpf.withdraw.rent")
    assert response.json()["status"] == "paid", response.text
    begins = [i for i, s in enumerate(statements) if s.upper().startswith("BEGIN")]
    assert len(begins) == 1  # opening the account: its insert and the opening group together
    opened = statements[begins[0] : begins[0] + 6]
    assert any("INSERT INTO ledger_accounts" in s for s in opened), opened


async def test_the_list_costs_the_same_statements_for_one_application_as_for_several(
    client: AsyncTestClient[Litestar],
    db: asyncpg.Connection,
    settings: Settings,
    clock: FrozenClock,
    statements: list[str],
) -> None:
    """A page reads its decisions and payouts in one query each, not two queries per row."""
    renter = await person(client, db, settings, clock, seq=873)
    assert (await apply(client, renter, "hpf.withdraw.rent")).json()["status"] == "paid"

    async def listed() -> tuple[int, int]:
        statements.clear()
        response = await client.get("/v1/applications", headers=renter.headers)
        assert response.status_code == 200, response.text
        return len(response.json()["applications"]), len(statements)

    one, cost_of_one = await listed()
    for code in ("hpf.withdraw.loan_repayment", "hpf.withdraw.retirement"):
        assert (await apply(client, renter, code)).status_code == 201
    several, cost_of_several = await listed()
    assert (one, several) == (1, 3)
    assert cost_of_several == cost_of_one, "\n".join(statements)
