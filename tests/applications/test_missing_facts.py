"""A source that cannot be asked never leads to a refusal or a payout: the application goes to a person."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import cast
from uuid import UUID

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.app import create_app
from haoban.applications.service import local_today
from haoban.kit.clock import FrozenClock
from tests.applications import money
from tests.applications.people import apply, person
from tests.conftest import make_settings
from tests.staff.factories import make_staff, staff_headers

BALANCE = 3_865_000  # tests/sandbox/bodies.fund


@pytest.fixture
async def estate_down(db_url: str, clock: FrozenClock) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """The real-estate registry switched to its HTTP API on a port where nothing listens."""
    settings = make_settings(
        db_url,
        HAOBAN_SOURCE_ESTATE_URL="http://127.0.0.1:9",
        HAOBAN_SOURCE_TIMEOUT_MS="300",
        HAOBAN_OUTBOX_WORKER="false",
    )
    async with AsyncTestClient(app=create_app(settings, database_url=db_url, clock=clock)) as client:
        yield client


async def test_unavailable_estate_registry_sends_a_withdrawal_to_review_not_to_payment(
    estate_down: AsyncTestClient[Litestar], db: asyncpg.Connection, db_url: str, clock: FrozenClock
) -> None:
    settings = make_settings(db_url)
    renter = await person(estate_down, db, settings, clock, seq=121)
    response = await apply(estate_down, renter, "hpf.withdraw.rent")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["decision"]["outcome"] == "review"
    assert body["status"] == "pending_review"
    assert "payout" not in body
    unknown = [s for s in body["decision"]["trace"] if s["passed"] is None]
    # the estate registry also holds the spouse's properties (the household rule, issue 12)
    assert [s["rule_id"] for s in unknown] == ["no_property_in_city", "spouse_no_property_in_city"]
    # in words, so null never reads as "owns a flat" (issue 19, part 6)
    assert all(s["result_en"].startswith("Could not be checked: the registry did not answer") for s in unknown)
    assert all(s["result_zh"].startswith("未能核实") for s in unknown)
    assert {s["result_en"] for s in body["decision"]["trace"] if s["passed"] is True} == {"Met"}
    assert await db.fetchval("SELECT count(*) FROM payouts") == 0
    stored = await db.fetchval("SELECT facts->'estate.properties'->>'missing' FROM decisions")
    assert stored.startswith("unavailable")


async def test_a_reviewer_approves_it_and_the_worker_pays_the_rules_amount_once(
    estate_down: AsyncTestClient[Litestar], db: asyncpg.Connection, db_url: str, clock: FrozenClock
) -> None:
    settings = make_settings(db_url)
    renter = await person(estate_down, db, settings, clock, seq=122)
    body = (await apply(estate_down, renter, "hpf.withdraw.rent")).json()
    assert body["status"] == "pending_review"
    payee = await db.fetchval("SELECT payee_enc FROM applications WHERE id = $1", UUID(body["application_id"]))
    assert payee is not None
    assert renter.card_no not in payee  # encrypted at rest

    await make_staff(db, departments=["hpf"], now=clock.now())
    staff = await staff_headers(estate_down)
    params = await money.params(db, "hpf.withdraw.rent", local_today(clock.now()))
    expected = min(BALANCE - int(params["retained_min_fen"]), int(params["annual_cap_fen"]))
    # the reviewer sees what approving would pay before deciding (issue 19, part 6)
    view = await estate_down.get(f"/v1/staff/applications/{body['application_id']}", headers=staff)
    assert view.status_code == 200, view.text
    assert view.json()["amount_fen"] == expected
    decided = await estate_down.post(
        f"/v1/staff/applications/{body['application_id']}/decision",
        json={"decision": "approve", "reason": "不动产登记中心电话核实：本市无房"},
        headers=staff,
    )
    assert decided.status_code == 200, decided.text
    await money.drain(settings, db_url)
    after = (await estate_down.get(f"/v1/applications/{body['application_id']}", headers=renter.headers)).json()
    assert after["status"] == "paid"
    assert after["payout"]["amount_fen"] == expected
    assert [h["actor_type"] for h in after["history"]] == ["citizen", "system", "staff", "system"]
    transfers = await money.bank_transfers(db, renter.card_no)
    assert [(t["amount_fen"], t["status"]) for t in transfers] == [(expected, "settled")]
    assert await money.unbalanced_groups(db) == 0
    # Issue 12: the reviewer's approval was debited at the fund centre first, the system of record.
    debit = cast(
        "asyncpg.Record",
        await db.fetchrow(
            "SELECT status, amount_fen FROM sandbox_fund.debits WHERE instruction_id = $1", UUID(body["application_id"])
        ),
    )
    assert (debit["status"], debit["amount_fen"]) == ("accepted", expected)
    fund = await db.fetchval("SELECT balance_fen FROM shared.hpf_accounts WHERE id_number = $1", renter.id_number)
    assert fund == BALANCE - expected


async def test_without_a_known_balance_the_reviewer_can_only_reject(
    estate_down: AsyncTestClient[Litestar], db: asyncpg.Connection, db_url: str, clock: FrozenClock
) -> None:
    settings = make_settings(db_url)
    nobody = await person(estate_down, db, settings, clock, seq=123, with_fund=False)
    body = (await apply(estate_down, nobody, "hpf.withdraw.rent")).json()
    assert body["status"] == "pending_review"
    await make_staff(db, departments=["hpf"], now=clock.now())
    staff = await staff_headers(estate_down)
    url = f"/v1/staff/applications/{body['application_id']}/decision"
    approve = await estate_down.post(url, json={"decision": "approve", "reason": "ok"}, headers=staff)
    assert approve.status_code == 409
    assert approve.json()["code"] in {"amount_unknown", "no_payee"}
    assert await db.fetchval("SELECT count(*) FROM payouts") == 0
    status = await db.fetchval("SELECT status FROM applications WHERE id = $1", UUID(body["application_id"]))
    assert status == "pending_review"  # nothing half-written
    reject = await estate_down.post(url, json={"decision": "reject", "reason": "无公积金账户"}, headers=staff)
    assert reject.status_code == 200
