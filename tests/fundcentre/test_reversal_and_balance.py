"""Issue 12: a payout the bank does not pay is given back at the fund centre, and reconciliation compares
the mirror's balance with the fund centre's."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.fundcentre import reconcile
from haoban.kit.clock import FrozenClock
from haoban.settings import Settings
from haoban.simulators.fundcentre.adapter import SandboxFundCentre
from tests.applications import money
from tests.applications.people import Person, apply, person

Client = AsyncTestClient[Litestar]
BALANCE = 3_865_000  # tests/sandbox/bodies.fund


async def fund_balance(db: asyncpg.Connection, who: Person) -> int:
    found: int = await db.fetchval("SELECT balance_fen FROM shared.hpf_accounts WHERE id_number = $1", who.id_number)
    return found


async def application_of(db: asyncpg.Connection, who: Person) -> UUID:
    found: UUID = await db.fetchval("SELECT id FROM applications WHERE citizen_id = $1", UUID(who.citizen_id))
    return found


async def kinds(db: asyncpg.Connection, db_url: str, clock: FrozenClock) -> set[tuple[str, UUID]]:
    pool = await asyncpg.create_pool(db_url, min_size=1, max_size=2)
    try:  # the fund centre as another process sees it
        report = await reconcile.reconcile_with(
            db, SandboxFundCentre(pool, clock), since=clock.now() - timedelta(days=1)
        )
    finally:
        await pool.close()
    return {(d.kind, d.application_id) for d in report.differences}


async def test_a_payout_the_bank_refuses_is_reversed_at_the_fund_centre_once(
    client: Client, db: asyncpg.Connection, db_url: str, settings: Settings, clock: FrozenClock
) -> None:
    renter = await person(client, db, settings, clock, seq=921, card_no="6217000000000000")  # a closed card
    body = (await apply(client, renter, "hpf.withdraw.rent")).json()
    assert body["status"] == "cancelled", body
    app_id = await application_of(db, renter)
    paid = await db.fetchval("SELECT amount_fen FROM payouts WHERE application_id = $1", app_id)
    assert await db.fetchval("SELECT status FROM payouts WHERE application_id = $1", app_id) == "reversed"
    # The mirror has the money back at once; the fund centre's debit still stands until the outbox runs.
    assert await money.member_balance(db, renter.citizen_id) == BALANCE
    assert await fund_balance(db, renter) == BALANCE - paid
    assert await kinds(db, db_url, clock) == {
        ("reversed_payout_still_debited", app_id),
        ("balance_differs", app_id),
    }
    await money.drain(settings, db_url)
    assert await db.fetchval("SELECT status FROM sandbox_fund.debits WHERE instruction_id = $1", app_id) == "reversed"
    assert await fund_balance(db, renter) == BALANCE
    assert (
        await db.fetchval(
            "SELECT done_at IS NOT NULL FROM outbox WHERE kind = 'fundcentre.reverse' AND ref = $1", str(app_id)
        )
        is True
    )
    # Run again (a redelivered row): the fund centre honours the reversal once.
    await db.execute(
        "UPDATE outbox SET done_at = NULL, available_at = now() - interval '1 s' WHERE kind = 'fundcentre.reverse'"
    )
    await money.drain(settings, db_url)
    assert await fund_balance(db, renter) == BALANCE
    assert (
        await db.fetchval(
            "SELECT count(*) FROM shared.hpf_withdrawals w JOIN shared.hpf_accounts a USING (account_no)"
            " WHERE a.id_number = $1 AND w.reference LIKE 'haoban:%'",
            renter.id_number,
        )
        == 0
    )
    assert await kinds(db, db_url, clock) == set()
    assert await money.unbalanced_groups(db) == 0


async def test_reconciliation_reports_a_planted_balance_difference(
    client: Client, db: asyncpg.Connection, db_url: str, settings: Settings, clock: FrozenClock
) -> None:
    renter = await person(client, db, settings, clock, seq=922)
    assert (await apply(client, renter, "hpf.withdraw.rent")).json()["status"] == "paid"
    assert await kinds(db, db_url, clock) == set()  # instructions and balances agree
    app_id = await application_of(db, renter)
    # Planted: the fund centre's book moved 500 fen with no instruction (the instruction lists still agree).
    await db.execute(
        "UPDATE shared.hpf_accounts SET balance_fen = balance_fen - 500 WHERE id_number = $1", renter.id_number
    )
    pool = await asyncpg.create_pool(db_url, min_size=1, max_size=2)
    try:
        report = await reconcile.reconcile_with(
            db, SandboxFundCentre(pool, clock), since=clock.now() - timedelta(days=1)
        )
    finally:
        await pool.close()
    [diff] = report.differences
    mirror = await money.member_balance(db, renter.citizen_id)
    assert (diff.kind, diff.application_id) == ("balance_differs", app_id)
    assert (diff.haoban_amount_fen, diff.fund_centre_amount_fen) == (mirror, (mirror or 0) - 500)
    assert report.checked_balances == 1
    assert "balance_differs" in reconcile.summary(report)
