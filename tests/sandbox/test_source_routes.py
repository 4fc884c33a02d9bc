"""The sandbox source routes write the front-end database, read back by its adapters' SQL."""

from __future__ import annotations

import hashlib
from datetime import date

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.exchange.ingest.schemas import RECORD_EXAMPLES
from haoban.exchange.sources import repository as frontdb
from haoban.exchange.sources.records import SourceName
from haoban.kit.clock import FrozenClock
from tests.sandbox import bodies

Client = AsyncTestClient[Litestar]


class TestEachRouteWritesItsSource:
    async def test_identity_is_created_with_its_photo_then_replaced(
        self, client: Client, db: asyncpg.Connection, clock: FrozenClock
    ) -> None:
        person = bodies.person(1)
        body = bodies.identity(person)
        created = await client.post("/sandbox/identities", json=body)
        assert created.status_code == 201, created.text
        assert created.json() == {"source": "identity", "key": person, "created": True}

        record = await frontdb.identity(db, person)
        photo = await frontdb.identity_photo(db, person)
        assert record is not None
        assert photo is not None
        assert (record.name, record.sex, record.status) == ("张三", "M", "normal")
        assert record.photo_sha256 == hashlib.sha256(photo).hexdigest()
        assert photo[:3] == b"\xff\xd8\xff"
        assert record.updated_at == clock.now()
        assert await db.fetchval("SELECT updated_by FROM shared.identities") == "sandbox"

        before = await db.fetchrow("SELECT * FROM shared.identities")
        again = await client.post("/sandbox/identities", json=body)
        assert again.status_code == 200, again.text
        assert again.json()["created"] is False
        assert await db.fetchrow("SELECT * FROM shared.identities") == before

    async def test_household_lists_every_member(self, client: Client, db: asyncpg.Connection) -> None:
        head, child = bodies.person(1), bodies.person(2, born=date(2015, 6, 1))
        response = await client.post("/sandbox/households", json=bodies.household("HH1", head, child))
        assert response.status_code == 201, response.text
        record = await frontdb.household(db, child)
        assert record is not None
        assert record.household_no == "HH1"
        assert {m.id_number for m in record.members} == {head, child}

    async def test_fund_account_with_bank_card_and_withdrawals(self, client: Client, db: asyncpg.Connection) -> None:
        person = bodies.person(1)
        withdrawal = {"withdrawn_on": "2025-03-10", "kind": "rent", "amount_fen": 1_200_000, "reference": "WD-1"}
        body = bodies.fund(person, employer="郑州某公司", loan_outstanding_fen=5, withdrawals=[withdrawal])
        response = await client.post("/sandbox/housing-fund/accounts", json=body)
        assert response.status_code == 201, response.text
        record = await frontdb.housing_fund(db, person)
        assert record is not None
        assert (record.balance_fen, record.monthly_deposit_fen, record.contribution_months) == (3_865_000, 120_000, 36)
        assert (record.bank_card.bank_name, record.bank_card.card_no) == ("中国建设银行", "6217000000000000123")
        assert (record.employer, record.loan_outstanding_fen) == ("郑州某公司", 5)
        assert [(w.kind, w.amount_fen, w.reference) for w in record.withdrawals] == [("rent", 1_200_000, "WD-1")]

        # Leaving `withdrawals` out keeps the history; an empty list clears it.
        assert (await client.post("/sandbox/housing-fund/accounts", json=bodies.fund(person))).status_code == 200
        assert len((await frontdb.housing_fund(db, person) or record).withdrawals) == 1
        cleared = await client.post("/sandbox/housing-fund/accounts", json=bodies.fund(person, withdrawals=[]))
        assert cleared.status_code == 200
        assert (await frontdb.housing_fund(db, person) or record).withdrawals == []

    async def test_property_belongs_to_each_owner(self, client: Client, db: asyncpg.Connection) -> None:
        a, b = bodies.person(1), bodies.person(2)
        response = await client.post("/sandbox/estate/properties", json=bodies.estate("豫(2020)郑州市0001", a, b))
        assert response.status_code == 201, response.text
        for owner in (a, b):
            (record,) = await frontdb.properties_of(db, owner)
            assert record.owner_id_numbers == sorted([a, b])
            assert (record.city, record.area_m2, record.mortgaged) == ("郑州", 96.5, False)

        # Owners not listed any more are removed.
        await client.post("/sandbox/estate/properties", json=bodies.estate("豫(2020)郑州市0001", a))
        assert await frontdb.properties_of(db, b) == []

    async def test_marriage_and_social_security(self, client: Client, db: asyncpg.Connection) -> None:
        person, spouse = bodies.person(1), bodies.person(2)
        assert (await client.post("/sandbox/marriages", json=bodies.marriage(person, spouse))).status_code == 201
        assert (await client.post("/sandbox/social-security", json=bodies.social(person))).status_code == 201
        married = await frontdb.marriage(db, person)
        assert married is not None
        assert (married.status, married.spouse_id_number, married.spouse_name) == ("married", spouse, "王五")
        social = await frontdb.social_security(db, person)
        assert social is not None
        assert (social.city, social.contribution_months) == ("郑州", 36)

    async def test_listing_a_person_in_another_household_moves_them(
        self, client: Client, db: asyncpg.Connection
    ) -> None:
        a, b = bodies.person(1), bodies.person(2)
        await client.post("/sandbox/households", json=bodies.household("HH1", a, b))
        assert (await client.post("/sandbox/households", json=bodies.household("HH2", b))).status_code == 201
        moved = await frontdb.household(db, b)
        stayed = await frontdb.household(db, a)
        assert moved is not None
        assert stayed is not None
        assert moved.household_no == "HH2"
        assert [m.id_number for m in stayed.members] == [a]

    async def test_every_write_is_audited_without_id_numbers(self, client: Client, db: asyncpg.Connection) -> None:
        await client.post("/sandbox/social-security", json=bodies.social(bodies.person(1)))
        row = await db.fetchrow(
            "SELECT actor_type, action, subject_id, details::text FROM audit_events WHERE action LIKE 'exchange.%'"
        )
        assert row is not None
        assert (row["actor_type"], row["action"], row["subject_id"]) == (
            "sandbox",
            "exchange.records_written",
            "social_security",
        )
        assert bodies.person(1) not in row["details"]


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("/sandbox/identities", "identity"),
        ("/sandbox/households", "household"),
        ("/sandbox/housing-fund/accounts", "housing_fund"),
        ("/sandbox/estate/properties", "estate"),
        ("/sandbox/marriages", "marriage"),
        ("/sandbox/social-security", "social_security"),
    ],
)
async def test_the_documented_examples_are_accepted(client: Client, path: str, source: SourceName) -> None:
    response = await client.post(path, json=RECORD_EXAMPLES[source])
    assert response.status_code == 201, response.text
