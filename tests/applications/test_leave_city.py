"""Leaving the city (离职/户口迁出提取), a service added as data only: a declaration and a rule set (issue 18).

Paid at once when the household is registered outside 郑州 and the fund account is sealed: the whole balance,
and the account closed; refused with the reason in words otherwise; a missing household goes to a person.
"""

from __future__ import annotations

import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.kit.clock import FrozenClock
from haoban.settings import Settings
from tests.applications import money
from tests.applications.people import apply, person

Client = AsyncTestClient[Litestar]
BALANCE = 3_865_000  # tests/sandbox/bodies.fund
SERVICE = "hpf.withdraw.leave_city"
KAIFENG = {"city": "开封", "address": "河南省开封市鼓楼区中山路 8 号"}
SEALED = {"status": "sealed"}


async def test_a_member_registered_in_kaifeng_with_a_sealed_account_is_paid_everything_and_the_account_closed(
    client: Client, db: asyncpg.Connection, settings: Settings, clock: FrozenClock
) -> None:
    leaver = await person(client, db, settings, clock, seq=751, household=KAIFENG, fund=SEALED)
    response = await apply(client, leaver, SERVICE)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "paid", body
    assert body["decision"]["outcome"] == "approve"
    assert body["decision"]["rule_set_version"] == "hpf.withdraw.leave_city@2026.1"
    assert [s["rule_id"] for s in body["decision"]["trace"] if s["passed"] is True] == [
        "account_not_closed",
        "account_sealed",
        "household_outside_city",
        "amount",
    ]
    assert body["payout"]["amount_fen"] == BALANCE
    assert body["payout"]["status"] == "settled"

    transfers = (await client.get("/sandbox/bank/transfers", params={"card_no": leaver.card_no})).json()["transfers"]
    assert [(t["amount_fen"], t["status"]) for t in transfers] == [(BALANCE, "settled")]
    assert await money.member_balance(db, leaver.citizen_id) == 0
    closed = await db.fetchval(
        "SELECT closed_at IS NOT NULL FROM ledger_accounts WHERE code = $1", f"hpf:member:{leaver.citizen_id}"
    )
    assert closed is True
    fund = await db.fetchrow(
        "SELECT a.status, w.kind FROM shared.hpf_accounts a JOIN shared.hpf_withdrawals w USING (account_no)"
        " WHERE a.id_number = $1",
        leaver.id_number,
    )
    assert fund is not None
    assert (fund["status"], fund["kind"]) == ("closed", "leave_city")
    assert await money.unbalanced_groups(db) == 0


async def test_a_member_registered_in_zhengzhou_is_refused_with_the_reason_in_words(
    client: Client, db: asyncpg.Connection, settings: Settings, clock: FrozenClock
) -> None:
    stayer = await person(client, db, settings, clock, seq=752, fund=SEALED)
    body = (await apply(client, stayer, SERVICE)).json()
    assert body["status"] == "rejected"
    assert body["decision"]["reasons"] == ["household_in_city"]
    (said,) = body["decision"]["explanations"]
    assert said["message_zh"].startswith("您的户籍在郑州市（公安户籍")
    assert "registered in 郑州市 (household registry" in said["message_en"]
    assert "户口迁出本市后" in said["next_zh"]
    assert "payout" not in body
    transfers = (await client.get("/sandbox/bank/transfers", params={"card_no": stayer.card_no})).json()["transfers"]
    assert transfers == []
    status = await db.fetchval("SELECT status FROM shared.hpf_accounts WHERE id_number = $1", stayer.id_number)
    assert status == "sealed"


async def test_a_member_still_contributing_is_refused_because_the_account_is_not_sealed(
    client: Client, db: asyncpg.Connection, settings: Settings, clock: FrozenClock
) -> None:
    worker = await person(client, db, settings, clock, seq=753, household=KAIFENG)
    body = (await apply(client, worker, SERVICE)).json()
    assert body["status"] == "rejected"
    assert body["decision"]["reasons"] == ["account_not_sealed"]
    (said,) = body["decision"]["explanations"]
    assert "未封存" in said["message_zh"]
    assert "not sealed" in said["message_en"]


async def test_a_missing_household_record_goes_to_a_person_and_nothing_is_paid(
    client: Client, db: asyncpg.Connection, settings: Settings, clock: FrozenClock
) -> None:
    unknown = await person(client, db, settings, clock, seq=754, fund=SEALED, with_household=False)
    body = (await apply(client, unknown, SERVICE)).json()
    assert body["status"] == "pending_review", body
    assert body["decision"]["outcome"] == "review"
    assert "missing:household.city_code" in body["decision"]["reasons"]
    assert "payout" not in body
    transfers = (await client.get("/sandbox/bank/transfers", params={"card_no": unknown.card_no})).json()["transfers"]
    assert transfers == []


async def test_the_catalogue_lists_it_as_an_instant_service_asking_for_nothing(client: Client) -> None:
    body = (await client.get(f"/v1/services/{SERVICE}")).json()
    assert body["decision_mode"] == "instant"
    assert body["materials_you_provide"] == []
    assert body["rule_set"] == SERVICE
    listed = [s["code"] for s in (await client.get("/v1/services")).json()["services"]]
    assert listed.index(SERVICE) == listed.index("hpf.withdraw.loan_repayment") + 1
