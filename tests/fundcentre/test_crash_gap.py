"""Issue 12: a retry with the same Idempotency-Key posts the same fund-centre instruction, and a debit that
reached the fund centre while our own commit failed is found again and never posted twice."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.fundcentre.ports import DebitAnswer, DebitInstruction, FundCentre, FundCentreUnavailable, PostedDebit
from haoban.kit.clock import FrozenClock
from haoban.runtime import Runtime
from haoban.settings import Settings
from tests.applications import money
from tests.applications.people import apply, person

Client = AsyncTestClient[Litestar]
BALANCE = 3_865_000  # tests/sandbox/bodies.fund

# A real fault in PostgreSQL: the first payout insert fails, so the deciding statement rolls back after the
# fund centre accepted the debit.
FAULT = """
CREATE TABLE commit_fault (armed boolean NOT NULL);
INSERT INTO commit_fault VALUES (true);
CREATE FUNCTION commit_fault() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT armed FROM commit_fault) THEN RAISE EXCEPTION 'planted commit failure'; END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER commit_fault BEFORE INSERT ON payouts FOR EACH ROW EXECUTE FUNCTION commit_fault();
"""


class NoGiveBack:
    """The fund centre, unreachable for the give-back (as when the process dies right after the debit)."""

    configured = True

    def __init__(self, inner: FundCentre) -> None:
        self.inner = inner
        self.debited: list[UUID] = []

    async def debit(self, instruction: DebitInstruction) -> DebitAnswer:
        self.debited.append(instruction.instruction_id)
        return await self.inner.debit(instruction)

    async def reverse(self, instruction_id: UUID, *, reason: str) -> DebitAnswer | None:
        raise FundCentreUnavailable("unreachable")

    async def debits(self, since: datetime) -> list[PostedDebit]:
        return await self.inner.debits(since)

    async def balance(self, account_no: str) -> int | None:
        return await self.inner.balance(account_no)


async def test_a_debit_booked_before_a_failed_commit_is_found_again_and_not_posted_twice(
    client: Client, db: asyncpg.Connection, settings: Settings, clock: FrozenClock
) -> None:
    renter = await person(client, db, settings, clock, seq=931)
    runtime: Runtime = client.app.state.runtime
    real = runtime.fund_centre
    centre = NoGiveBack(real)
    runtime.fund_centre = centre
    await db.execute(FAULT)
    key = {"Idempotency-Key": "rent-931"}
    try:
        first = await apply(client, renter, "hpf.withdraw.rent", headers=key)
        assert first.status_code == 503, first.text
        assert first.json()["code"] == "fund_centre_debit_outstanding"
        [planned] = centre.debited
        assert await db.fetchval("SELECT status FROM sandbox_fund.debits WHERE instruction_id = $1", planned) == (
            "accepted"
        )
        assert await db.fetchval("SELECT count(*) FROM applications") == 0  # nothing recorded here
        debited = BALANCE - await db.fetchval(
            "SELECT balance_fen FROM shared.hpf_accounts WHERE id_number = $1", renter.id_number
        )
        assert debited > 0
        await db.execute("UPDATE commit_fault SET armed = false")
        again = await apply(client, renter, "hpf.withdraw.rent", headers=key)
    finally:
        runtime.fund_centre = real
    assert again.status_code == 201, again.text
    body = again.json()
    assert body["status"] == "paid", body
    assert centre.debited == [planned, planned]  # the same instruction, asked again
    assert UUID(body["application_id"]) == planned
    assert body["payout"]["amount_fen"] == debited
    rows = await db.fetch("SELECT instruction_id, status FROM sandbox_fund.debits")
    assert [(r["instruction_id"], r["status"]) for r in rows] == [(planned, "accepted")]  # one debit
    fund = await db.fetchval("SELECT balance_fen FROM shared.hpf_accounts WHERE id_number = $1", renter.id_number)
    assert fund == BALANCE - debited
    assert await money.member_balance(db, renter.citizen_id) == fund  # the mirror agrees
    assert [t["amount_fen"] for t in await money.bank_transfers(db, renter.card_no)] == [debited]
    # A third try replays the first answer: no new instruction at all.
    third = await apply(client, renter, "hpf.withdraw.rent", headers=key)
    assert third.json()["application_id"] == body["application_id"]
    assert await db.fetchval("SELECT count(*) FROM sandbox_fund.debits") == 1
    assert await money.unbalanced_groups(db) == 0


async def test_a_keyed_request_uses_the_instruction_planned_with_its_key(
    client: Client, db: asyncpg.Connection, settings: Settings, clock: FrozenClock
) -> None:
    renter = await person(client, db, settings, clock, seq=932)
    body = (await apply(client, renter, "hpf.withdraw.rent", headers={"Idempotency-Key": "k-932"})).json()
    assert body["status"] == "paid", body
    planned = await db.fetchval("SELECT instruction_id FROM idempotency_keys WHERE key = 'k-932'")
    assert UUID(body["application_id"]) == planned
    assert await db.fetchval("SELECT instruction_id FROM sandbox_fund.debits") == planned
