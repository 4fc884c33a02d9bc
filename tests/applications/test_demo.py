"""The issue's demo: 张三 withdraws rent in one request; 李四 is refused rent (she owns a flat)
and is paid her whole balance on retirement; the demo reviewer can log in."""

from __future__ import annotations

import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.exchange.sources import repository as frontdb
from haoban.kit.clock import FrozenClock
from haoban.root import build_runtime
from haoban.sandbox.demo import DEMO_ACCOUNTS, DEMO_STAFF_PASSWORD, DEMO_STAFF_USERNAME, load_demo
from haoban.settings import Settings
from tests.applications import money
from tests.oauth import flows

Client = AsyncTestClient[Litestar]


async def test_demo_citizens_rent_refusal_and_retirement(
    client: Client, db: asyncpg.Connection, settings: Settings, db_url: str, clock: FrozenClock
) -> None:
    async with db.transaction():
        await load_demo(db, build_runtime(settings, database_url=db_url, clock=clock))
    zhang, li = DEMO_ACCOUNTS
    zhang_fund = await frontdb.housing_fund(db, zhang.id_number)
    li_fund = await frontdb.housing_fund(db, li.id_number)
    assert zhang_fund is not None
    assert li_fund is not None

    def headers(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    zhang_token = await flows.face_token(db, settings, clock, str(zhang.citizen_id))
    rent = await client.post(
        "/v1/applications", json={"service_code": "hpf.withdraw.rent"}, headers=headers(zhang_token)
    )
    assert rent.status_code == 201, rent.text
    assert rent.json()["status"] == "paid"
    received = (await client.get("/sandbox/bank/transfers", params={"card_no": zhang_fund.bank_card.card_no})).json()
    assert [t["amount_fen"] for t in received["transfers"]] == [rent.json()["payout"]["amount_fen"]]

    li_token = await flows.face_token(db, settings, clock, str(li.citizen_id))
    refused = await client.post(
        "/v1/applications", json={"service_code": "hpf.withdraw.rent"}, headers=headers(li_token)
    )
    assert refused.json()["status"] == "rejected"
    assert "owns_property_in_city" in refused.json()["decision"]["reasons"]

    retired = await client.post(
        "/v1/applications", json={"service_code": "hpf.withdraw.retirement"}, headers=headers(li_token)
    )
    assert retired.json()["status"] == "paid", retired.text
    assert retired.json()["payout"]["amount_fen"] == li_fund.balance_fen
    assert await money.member_balance(db, str(li.citizen_id)) == 0


async def test_demo_reviewer_can_log_in_once_loaded_twice(
    client: Client, db: asyncpg.Connection, settings: Settings, db_url: str, clock: FrozenClock
) -> None:
    runtime = build_runtime(settings, database_url=db_url, clock=clock)
    for _ in range(2):
        async with db.transaction():
            await load_demo(db, runtime)
    login = await client.post(
        "/v1/staff/login", json={"username": DEMO_STAFF_USERNAME, "password": DEMO_STAFF_PASSWORD}
    )
    assert login.status_code == 200, login.text
    queue = await client.get("/v1/staff/queue", headers={"Authorization": f"Bearer {login.json()['access_token']}"})
    assert queue.status_code == 200
