"""Demo data goes through the sandbox use cases, and loading it again changes nothing."""

from __future__ import annotations

import asyncpg

from haoban.db.sql import Template, identifier
from haoban.exchange.sources import repository as frontdb
from haoban.kit.clock import FrozenClock
from haoban.root import build_runtime
from haoban.sandbox.demo import DEMO_ACCOUNTS, LI_SI, ZHANG_SAN, load_demo
from haoban.settings import Settings

TABLES = ("identities", "households", "household_members", "hpf_accounts", "estate_properties", "estate_owners")
_SNAPSHOT = Template("SELECT * FROM shared.{table} ORDER BY 1, 2")


async def snapshot(db: asyncpg.Connection) -> dict[str, list[asyncpg.Record]]:
    return {t: await db.fetch(_SNAPSHOT.render(table=identifier(t, TABLES)).text) for t in TABLES}


async def load(db: asyncpg.Connection, settings: Settings, db_url: str, clock: FrozenClock) -> None:
    runtime = build_runtime(settings, database_url=db_url, clock=clock)
    async with db.transaction():
        await load_demo(db, runtime)


async def test_demo_citizens_have_records_in_every_source(
    db: asyncpg.Connection, settings: Settings, db_url: str, clock: FrozenClock
) -> None:
    await load(db, settings, db_url, clock)
    assert {a.id_number for a in DEMO_ACCOUNTS} == {ZHANG_SAN, LI_SI}

    zhang_fund = await frontdb.housing_fund(db, ZHANG_SAN)
    assert zhang_fund is not None
    assert zhang_fund.status == "normal"
    assert zhang_fund.balance_fen > 0
    assert zhang_fund.contribution_months >= 3
    assert zhang_fund.bank_card.card_no
    assert (zhang_fund.city, zhang_fund.division_code) == ("郑州市", "410100")  # the fund centre's city
    assert await frontdb.properties_of(db, ZHANG_SAN) == []

    li = await frontdb.identity(db, LI_SI)
    assert li is not None
    assert li.birth_date.year == 1960
    (flat,) = await frontdb.properties_of(db, LI_SI)
    assert flat.city == "郑州市"  # as the registry writes it (issue 12), stored with its division code
    assert flat.division_code == "410105"
    assert await frontdb.housing_fund(db, LI_SI) is not None

    for person in (ZHANG_SAN, LI_SI):
        assert await frontdb.identity_photo(db, person) is not None
        assert await frontdb.household(db, person) is not None
        assert await frontdb.marriage(db, person) is not None
        assert await frontdb.social_security(db, person) is not None


async def test_loading_twice_leaves_the_same_rows(
    db: asyncpg.Connection, settings: Settings, db_url: str, clock: FrozenClock
) -> None:
    await load(db, settings, db_url, clock)
    first = await snapshot(db)
    await load(db, settings, db_url, clock)
    assert await snapshot(db) == first
    assert await db.fetchval("SELECT count(*) FROM citizens") == len(DEMO_ACCOUNTS)


async def test_a_demo_citizen_sees_their_linked_data(
    db: asyncpg.Connection, settings: Settings, db_url: str, clock: FrozenClock, client: object
) -> None:
    from litestar.testing import AsyncTestClient

    assert isinstance(client, AsyncTestClient)
    await load(db, settings, db_url, clock)
    await load(db, settings, db_url, clock)  # idempotent: still one consent each
    renter = DEMO_ACCOUNTS[0]
    assert await db.fetchval("SELECT count(*) FROM consents WHERE citizen_id = $1", renter.citizen_id) == 1
    pair = (await client.post(f"/sandbox/citizens/{renter.citizen_id}/tokens", json={})).json()
    response = await client.get("/v1/me/linked-data", headers={"Authorization": f"Bearer {pair['access_token']}"})
    assert response.status_code == 200, response.text
    sources = {s["source"]: s for s in response.json()["sources"]}
    assert sources["identity"]["items"]["name"]["value"] == "张三"
    assert sources["housing_fund"]["status"] == "ok"
    assert sources["estate"]["status"] == "no_record"
