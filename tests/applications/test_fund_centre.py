"""Issue 12: the fund centre is the system of record.

A withdrawal is decided on the balance the fund centre answers within the
request and posted to it as a debit instruction; the ledger only mirrors it.
The old code opened the mirror from the fund balance once and never read it
again, so money withdrawn at the counter was paid a second time.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.fundcentre import reconcile
from haoban.fundcentre.ports import DebitAnswer, DebitInstruction, FundCentre, PostedDebit
from haoban.kit.clock import FrozenClock
from haoban.ledger import service as ledger
from haoban.runtime import Runtime
from haoban.settings import Settings
from haoban.simulators.fundcentre.adapter import SandboxFundCentre
from tests.applications import money
from tests.applications.people import Person, apply, person

Client = AsyncTestClient[Litestar]
BALANCE = 3_865_000  # tests/sandbox/bodies.fund
RETIRED = date(1955, 3, 1)


def runtime_of(client: Client) -> Runtime:
    runtime: Runtime = client.app.state.runtime
    return runtime


async def account_no(db: asyncpg.Connection, who: Person) -> str:
    found: str = await db.fetchval("SELECT account_no FROM shared.hpf_accounts WHERE id_number = $1", who.id_number)
    return found


async def fund_balance(db: asyncpg.Connection, who: Person) -> int:
    found: int = await db.fetchval("SELECT balance_fen FROM shared.hpf_accounts WHERE id_number = $1", who.id_number)
    return found


async def counter(client: Client, db: asyncpg.Connection, who: Person, amount_fen: int) -> int:
    response = await client.post(
        "/sandbox/fund-centre/counter-withdrawals",
        json={"account_no": await account_no(db, who), "amount_fen": amount_fen},
    )
    assert response.status_code == 201, response.text
    balance: int = response.json()["balance_fen"]
    return balance


async def test_a_counter_withdrawal_between_two_app_withdrawals_never_overpays(
    client: Client, db: asyncpg.Connection, settings: Settings, clock: FrozenClock
) -> None:
    retiree = await person(client, db, settings, clock, seq=901, born=RETIRED)
    rent = (await apply(client, retiree, "hpf.withdraw.rent")).json()
    assert rent["status"] == "paid", rent
    paid = rent["payout"]["amount_fen"]
    assert await fund_balance(db, retiree) == BALANCE - paid  # the fund centre booked Haoban's debit
    # At the counter, the rest of the account is withdrawn: the fund centre's balance is now 0.
    assert await counter(client, db, retiree, BALANCE - paid) == 0
    second = (await apply(client, retiree, "hpf.withdraw.retirement")).json()
    assert second["status"] == "rejected", second
    assert second["decision"]["reasons"] == ["nothing_to_withdraw"]
    transfers = await money.bank_transfers(db, retiree.card_no)
    assert [t["amount_fen"] for t in transfers] == [paid]  # never the counter's money a second time
    assert await money.member_balance(db, retiree.citizen_id) == 0  # the mirror follows the fund centre
    assert await money.unbalanced_groups(db) == 0


async def test_a_deposit_at_the_fund_centre_is_paid_on_the_fund_centres_balance(
    client: Client, db: asyncpg.Connection, settings: Settings, clock: FrozenClock
) -> None:
    retiree = await person(client, db, settings, clock, seq=902, born=RETIRED)
    async with db.transaction():  # a mirror opened before the fund centre booked a deposit of 10,000 yuan
        await ledger.open_member_account(
            db,
            citizen_id=UUID(retiree.citizen_id),
            opening_balance_fen=BALANCE - 1_000_000,
            source_ref="t",
            at=clock.now(),
        )
    body = (await apply(client, retiree, "hpf.withdraw.retirement")).json()
    assert body["status"] == "paid", body
    assert body["payout"]["amount_fen"] == BALANCE
    assert await fund_balance(db, retiree) == 0
    assert await money.unbalanced_groups(db) == 0


async def test_the_balance_view_is_right_after_a_payout(
    client: Client, db: asyncpg.Connection, settings: Settings, clock: FrozenClock
) -> None:
    renter = await person(client, db, settings, clock, seq=903)
    consent = await client.post(
        "/v1/me/consents",
        json={"purpose": {"kind": "self_view"}, "items": ["housing_fund.*"], "terms_version": "2026-11"},
        headers=renter.headers,
    )
    assert consent.status_code == 201, consent.text
    before = (await client.get("/v1/me/housing-fund", headers=renter.headers)).json()
    assert before["balance_fen"] == BALANCE
    body = (await apply(client, renter, "hpf.withdraw.rent")).json()
    assert body["status"] == "paid", body
    after = (await client.get("/v1/me/housing-fund", headers=renter.headers)).json()
    assert after["balance_fen"] == BALANCE - body["payout"]["amount_fen"]


class CounterFirst:
    """The fund centre, with a counter withdrawal landing between the facts read and the debit."""

    configured = True

    def __init__(self, inner: FundCentre, pool: asyncpg.Pool, account_no: str) -> None:
        self.inner, self.pool, self.account_no = inner, pool, account_no

    async def debit(self, instruction: DebitInstruction) -> DebitAnswer:
        await self.pool.execute(
            "UPDATE shared.hpf_accounts SET balance_fen = balance_fen - 100 WHERE account_no = $1", self.account_no
        )
        return await self.inner.debit(instruction)

    async def reverse(self, instruction_id: UUID, *, reason: str) -> DebitAnswer | None:
        return await self.inner.reverse(instruction_id, reason=reason)

    async def debits(self, since: Any) -> list[PostedDebit]:
        return await self.inner.debits(since)

    async def balance(self, account_no: str) -> int | None:
        return await self.inner.balance(account_no)


async def test_a_debit_refused_for_a_changed_balance_leaves_a_rejected_application_and_moves_nothing(
    client: Client, db: asyncpg.Connection, settings: Settings, clock: FrozenClock
) -> None:
    renter = await person(client, db, settings, clock, seq=904)
    runtime = runtime_of(client)
    real = runtime.fund_centre
    runtime.fund_centre = CounterFirst(real, runtime.pool, await account_no(db, renter))
    try:
        response = await apply(client, renter, "hpf.withdraw.rent")
    finally:
        runtime.fund_centre = real
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "rejected", body
    assert body["status_reason"] == "fund_centre_refused:balance_changed"
    assert body.get("payout") is None
    assert await money.bank_transfers(db, renter.card_no) == []
    assert await db.fetchval("SELECT count(*) FROM payouts") == 0
    assert await fund_balance(db, renter) == BALANCE - 100  # only the counter's money left the account
    assert await db.fetchval("SELECT status FROM sandbox_fund.debits") == "refused"
    assert await money.unbalanced_groups(db) == 0
    # Asked again, it is decided on the new balance and paid.
    again = (await apply(client, renter, "hpf.withdraw.rent")).json()
    assert again["status"] == "paid", again


async def test_reconciliation_reports_a_planted_difference(
    client: Client, db: asyncpg.Connection, db_url: str, settings: Settings, clock: FrozenClock
) -> None:
    renter = await person(client, db, settings, clock, seq=905)
    other = await person(client, db, settings, clock, seq=906)
    for who in (renter, other):
        assert (await apply(client, who, "hpf.withdraw.rent")).json()["status"] == "paid"
    since = clock.now() - timedelta(days=1)
    pool = await asyncpg.create_pool(db_url, min_size=1, max_size=2)
    centre = SandboxFundCentre(pool, clock)  # the fund centre as another process sees it
    clean = await reconcile.reconcile_with(db, centre, since=since)
    assert (clean.checked_payouts, clean.checked_debits, clean.differences) == (2, 2, [])

    renter_app = await db.fetchval("SELECT id FROM applications WHERE citizen_id = $1", UUID(renter.citizen_id))
    other_app = await db.fetchval("SELECT id FROM applications WHERE citizen_id = $1", UUID(other.citizen_id))
    # Planted: the fund centre lost one instruction, changed another's amount, and holds one Haoban never paid.
    await db.execute("DELETE FROM sandbox_fund.debits WHERE instruction_id = $1", renter_app)
    await db.execute("UPDATE sandbox_fund.debits SET amount_fen = amount_fen + 1 WHERE instruction_id = $1", other_app)
    orphan = UUID("00000000-0000-4000-8000-000000000012")
    await db.execute(
        "INSERT INTO sandbox_fund.debits (instruction_id, account_no, kind, amount_fen, expected_balance_fen, status,"
        " received_at) VALUES ($1, 'ZZ999999', 'rent', 5000, 5000, 'accepted', $2)",
        orphan,
        clock.now(),
    )
    report = await reconcile.reconcile_with(db, centre, since=since)
    await pool.close()
    found = {(d.kind, d.application_id) for d in report.differences}
    assert found == {
        ("not_at_fund_centre", renter_app),
        ("amount_differs", other_app),
        ("not_at_haoban", orphan),
    }
    assert "not_at_haoban" in reconcile.summary(report)
