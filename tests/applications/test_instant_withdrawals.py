"""Instant housing-fund withdrawals: decided and paid in one request, refused with the reason."""

from __future__ import annotations

from datetime import date, timedelta

import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.applications.service import local_today
from haoban.kit.clock import FrozenClock
from haoban.settings import Settings
from tests.applications import money
from tests.applications.people import apply, person

Client = AsyncTestClient[Litestar]
BALANCE = 3_865_000  # tests/sandbox/bodies.fund


async def test_renter_is_paid_in_the_same_request_and_the_bank_received_it(
    client: Client, db: asyncpg.Connection, settings: Settings, clock: FrozenClock
) -> None:
    renter = await person(client, db, settings, clock, seq=501)
    response = await apply(client, renter, "hpf.withdraw.rent")
    assert response.status_code == 201, response.text
    body = response.json()
    p = await money.params(db, "hpf.withdraw.rent", local_today(clock.now()))
    expected = min(BALANCE - int(p["retained_min_fen"]), int(p["annual_cap_fen"]))
    assert body["status"] == "paid"
    assert body["decision"]["outcome"] == "approve"
    assert body["decision"]["amount_fen"] == expected
    assert body["decision"]["rule_set_version"].startswith("hpf.withdraw.rent@")
    assert all(step["passed"] is True for step in body["decision"]["trace"])
    assert body["payout"]["status"] == "settled"
    assert body["payout"]["amount_fen"] == expected
    assert renter.card_no not in response.text
    assert body["payout"]["bank_card_masked"].endswith(renter.card_no[-4:])

    transfers = (await client.get("/sandbox/bank/transfers", params={"card_no": renter.card_no})).json()["transfers"]
    assert [(t["amount_fen"], t["status"]) for t in transfers] == [(expected, "settled")]
    assert await money.member_balance(db, renter.citizen_id) == BALANCE - expected
    assert await money.unbalanced_groups(db) == 0

    again = await client.get(f"/v1/applications/{body['application_id']}", headers=renter.headers)
    assert again.status_code == 200
    assert [h["to_status"] for h in again.json()["history"]] == ["submitted", "approved", "paid"]


async def test_property_owner_is_refused_with_the_reason_and_nothing_moves(
    client: Client, db: asyncpg.Connection, settings: Settings, clock: FrozenClock
) -> None:
    owner = await person(client, db, settings, clock, seq=502, owns_property=True)
    response = await apply(client, owner, "hpf.withdraw.rent")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "rejected"
    assert body["decision"]["outcome"] == "reject"
    assert "owns_property_in_city" in body["decision"]["reasons"]
    failed = [s for s in body["decision"]["trace"] if s["passed"] is False]
    assert [s["rule_id"] for s in failed] == ["no_property_in_city"]
    assert failed[0]["message_zh"]
    assert failed[0]["message_en"]
    assert "payout" not in body
    transfers = (await client.get("/sandbox/bank/transfers", params={"card_no": owner.card_no})).json()["transfers"]
    assert transfers == []
    balance = await money.member_balance(db, owner.citizen_id)
    assert balance in (None, BALANCE)


async def test_retirement_pays_the_whole_balance_and_closes_the_account(
    client: Client, db: asyncpg.Connection, settings: Settings, clock: FrozenClock
) -> None:
    retiree = await person(client, db, settings, clock, seq=503, born=date(1955, 3, 1))
    response = await apply(client, retiree, "hpf.withdraw.retirement")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "paid"
    assert body["payout"]["amount_fen"] == BALANCE
    assert await money.member_balance(db, retiree.citizen_id) == 0
    closed = await db.fetchval(
        "SELECT closed_at IS NOT NULL FROM ledger_accounts WHERE code = $1", f"hpf:member:{retiree.citizen_id}"
    )
    assert closed is True
    rent = await apply(client, retiree, "hpf.withdraw.rent")
    assert rent.status_code in (201, 409)
    if rent.status_code == 201:
        assert rent.json()["status"] != "paid"
    assert await money.unbalanced_groups(db) == 0


async def test_too_young_for_retirement_is_refused(
    client: Client, db: asyncpg.Connection, settings: Settings, clock: FrozenClock
) -> None:
    young = await person(client, db, settings, clock, seq=504)
    body = (await apply(client, young, "hpf.withdraw.retirement")).json()
    assert body["status"] == "rejected"
    assert body["decision"]["reasons"]


async def test_loan_repayment_pays_an_owner_of_a_mortgaged_flat(
    client: Client, db: asyncpg.Connection, settings: Settings, clock: FrozenClock
) -> None:
    owner = await person(client, db, settings, clock, seq=505, owns_property=True, mortgaged=True)
    body = (await apply(client, owner, "hpf.withdraw.loan_repayment")).json()
    assert body["status"] == "paid", body
    assert body["payout"]["status"] == "settled"


async def test_sealed_account_is_refused(
    client: Client, db: asyncpg.Connection, settings: Settings, clock: FrozenClock
) -> None:
    sealed = await person(client, db, settings, clock, seq=506, fund={"status": "sealed"})
    body = (await apply(client, sealed, "hpf.withdraw.rent")).json()
    assert body["status"] == "rejected"
    assert "account_sealed" in body["decision"]["reasons"]


async def test_second_rent_withdrawal_in_the_period_is_refused(
    client: Client, db: asyncpg.Connection, settings: Settings, clock: FrozenClock
) -> None:
    renter = await person(client, db, settings, clock, seq=507)
    first = await apply(client, renter, "hpf.withdraw.rent")
    assert first.json()["status"] == "paid"
    second = await apply(client, renter, "hpf.withdraw.rent")
    assert second.status_code == 409
    assert second.json()["code"] == "application_exists"
    transfers = (await client.get("/sandbox/bank/transfers", params={"card_no": renter.card_no})).json()["transfers"]
    assert len(transfers) == 1


async def test_withdrawal_needs_a_recent_face_verification(
    client: Client, db: asyncpg.Connection, settings: Settings, clock: FrozenClock
) -> None:
    renter = await person(client, db, settings, clock, seq=508)
    clock.advance(timedelta(seconds=301))
    response = await apply(client, renter, "hpf.withdraw.rent")
    assert response.status_code == 401
    assert response.json()["code"] == "step_up_required"
    assert await db.fetchval("SELECT count(*) FROM applications") == 0


async def test_bad_input_names_the_field_and_writes_nothing(
    client: Client, db: asyncpg.Connection, settings: Settings, clock: FrozenClock
) -> None:
    renter = await person(client, db, settings, clock, seq=509)
    cases = [
        ({"service_code": "no.such", "inputs": {}}, "service_code"),
        ({"service_code": "hpf.withdraw.rent", "inputs": {"amount_fen": 1}}, "inputs"),
        ({"service_code": "hpf.withdraw.rent", "extra": 1}, "extra"),
        ({"service_code": "housing.public_rental.apply", "inputs": {"household_size": "3"}}, "inputs.household_size"),
        # tolerant acceptance is the service's to allow, not an input that silently did nothing
        (
            {
                "service_code": "housing.public_rental.apply",
                "inputs": {"household_size": 2, "monthly_income_fen": 1, "tolerant_acceptance": True},
            },
            "inputs.tolerant_acceptance",
        ),
    ]
    for body, field in cases:
        response = await client.post("/v1/applications", json=body, headers=renter.headers)
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert any(field in e["field"] for e in response.json()["errors"]), (field, response.json())
    assert await db.fetchval("SELECT count(*) FROM applications") == 0


async def test_another_citizens_application_is_404(
    client: Client, db: asyncpg.Connection, settings: Settings, clock: FrozenClock
) -> None:
    a = await person(client, db, settings, clock, seq=510)
    b = await person(client, db, settings, clock, seq=511)
    mine = (await apply(client, a, "hpf.withdraw.rent")).json()["application_id"]
    assert (await client.get(f"/v1/applications/{mine}", headers=b.headers)).status_code == 404
    assert (await client.post(f"/v1/applications/{mine}/cancel", headers=b.headers)).status_code == 404
    assert (await client.get("/v1/applications", headers=b.headers)).json()["applications"] == []
    listed = (await client.get("/v1/applications", headers=a.headers)).json()["applications"]
    assert [x["application_id"] for x in listed] == [mine]


async def test_every_status_change_gives_exactly_one_notification(
    client: Client, db: asyncpg.Connection, db_url: str, settings: Settings, clock: FrozenClock
) -> None:
    renter = await person(client, db, settings, clock, seq=512)
    body = (await apply(client, renter, "hpf.withdraw.rent")).json()
    inbox = (await client.get("/v1/me/notifications", headers=renter.headers)).json()["notifications"]
    assert sorted(n["status"] for n in inbox) == ["approved", "paid", "submitted"]
    assert all(n["application_id"] == body["application_id"] for n in inbox)
    await money.drain(settings, db_url)
    await money.drain(settings, db_url)  # a second round delivers nothing again
    sent = await db.fetchval(
        "SELECT count(*) FROM sandbox_messages WHERE recipient = $1", f"citizen:{renter.citizen_id}"
    )
    assert sent == 3
    # a tester reads them by citizen, as the app would show them (issue 19, part 6)
    seen = await client.get("/sandbox/messages", params={"recipient": f"citizen:{renter.citizen_id}", "limit": 50})
    assert seen.status_code == 200, seen.text
    bodies_seen = [m["body"] for m in seen.json()["messages"]]
    assert len(bodies_seen) == 3
    assert any("提取已到账" in b for b in bodies_seen)
    paid = next(n for n in inbox if n["status"] == "paid")
    amount = f"{body['payout']['amount_fen'] / 100:,.2f}"  # the notice says how much (issue 19, part 6)
    assert f"{amount} 元" in paid["body_zh"]
    assert f"{amount} yuan" in paid["body_en"]
    delivered = (await client.get("/v1/me/notifications", headers=renter.headers)).json()["notifications"]
    assert all(n["delivered_at"] for n in delivered)
