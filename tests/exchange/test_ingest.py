"""Department ingestion: authenticated per department and source, all-or-nothing, idempotent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.app import create_app
from haoban.exchange.sources import repository as frontdb
from haoban.kit.clock import FrozenClock
from tests.conftest import make_settings
from tests.sandbox import bodies
from tests.test_http_conventions import assert_problem

Client = AsyncTestClient[Litestar]

HPF_SECRET = "some-long-secret-123"
POLICE_SECRET = "another-long-secret-456"
ESTATE_SECRET = "estate-registry-secret-789"
CREDENTIALS = (
    f"hpf-center:housing_fund:{HPF_SECRET},police:identity+household:{POLICE_SECRET},"
    f"estate-registry:estate:{ESTATE_SECRET}"
)
HPF = {"Authorization": f"Bearer {HPF_SECRET}"}
POLICE = {"Authorization": f"Bearer {POLICE_SECRET}"}
ESTATE = {"Authorization": f"Bearer {ESTATE_SECRET}"}


@pytest.fixture
async def ingest_client(db_url: str, clock: FrozenClock) -> AsyncIterator[Client]:
    """Production-like: sandbox off, two department credentials."""
    settings = make_settings(db_url, HAOBAN_SANDBOX="false", HAOBAN_DEPARTMENT_CREDENTIALS=CREDENTIALS)
    async with AsyncTestClient(app=create_app(settings, database_url=db_url, clock=clock)) as client:
        yield client


def accounts(n: int) -> list[dict[str, Any]]:
    return [bodies.fund(bodies.person(i + 1), f"ZZ{i:04d}") for i in range(n)]


async def fund_rows(db: asyncpg.Connection) -> list[asyncpg.Record]:
    return await db.fetch("SELECT * FROM shared.hpf_accounts ORDER BY account_no")


class TestWhoMayWrite:
    async def test_no_credential_is_401_with_a_challenge(self, ingest_client: Client) -> None:
        response = await ingest_client.post("/v1/ingest/housing_fund", json={"records": accounts(1)})
        assert_problem(response, 401, "unauthorized")
        assert response.headers["www-authenticate"].startswith("Bearer")

    async def test_unknown_credential_is_401(self, ingest_client: Client, db: asyncpg.Connection) -> None:
        headers = {"Authorization": "Bearer not-a-department-secret"}
        response = await ingest_client.post("/v1/ingest/housing_fund", json={"records": accounts(1)}, headers=headers)
        assert_problem(response, 401, "unauthorized")
        assert await fund_rows(db) == []

    async def test_a_source_the_credential_does_not_list_is_403(
        self, ingest_client: Client, db: asyncpg.Connection
    ) -> None:
        body = {"records": [bodies.identity(bodies.person(1))]}
        assert_problem(await ingest_client.post("/v1/ingest/identity", json=body, headers=HPF), 403, "forbidden")
        assert_problem(
            await ingest_client.post("/v1/ingest/housing_fund", json={"records": accounts(1)}, headers=POLICE),
            403,
            "forbidden",
        )
        assert await db.fetchval("SELECT count(*) FROM shared.identities") == 0
        assert await fund_rows(db) == []

    async def test_an_unknown_source_is_404(self, ingest_client: Client) -> None:
        response = await ingest_client.post("/v1/ingest/tax", json={"records": accounts(1)}, headers=HPF)
        assert_problem(response, 404, "not_found")

    async def test_auth_is_checked_before_the_body(self, ingest_client: Client) -> None:
        response = await ingest_client.post(
            "/v1/ingest/housing_fund", content=b"{not json", headers={"content-type": "application/json"}
        )
        assert_problem(response, 401, "unauthorized")


class TestBatches:
    async def test_good_batch_is_upserted_and_repeating_it_changes_nothing(
        self, ingest_client: Client, db: asyncpg.Connection, clock: FrozenClock
    ) -> None:
        batch = {"records": accounts(3)}
        first = await ingest_client.post("/v1/ingest/housing_fund", json=batch, headers=HPF)
        assert first.status_code == 200, first.text
        assert first.json() == {"source": "housing_fund", "accepted": 3, "created": 3}
        rows = await fund_rows(db)
        assert [r["account_no"] for r in rows] == ["ZZ0000", "ZZ0001", "ZZ0002"]
        assert {(r["updated_by"], r["updated_at"]) for r in rows} == {("hpf-center", clock.now())}
        record = await frontdb.housing_fund(db, bodies.person(2))
        assert record is not None
        assert record.account_no == "ZZ0001"

        again = await ingest_client.post("/v1/ingest/housing_fund", json=batch, headers=HPF)
        assert again.status_code == 200, again.text
        assert again.json() == {"source": "housing_fund", "accepted": 3, "created": 0}
        assert await fund_rows(db) == rows

    async def test_one_bad_record_among_good_ones_writes_nothing(
        self, ingest_client: Client, db: asyncpg.Connection
    ) -> None:
        records = accounts(5)
        records[1]["id_number"] = bodies.wrong_check_digit(records[1]["id_number"])
        records[3]["balance_fen"] = -1
        records[4]["bank_card"]["color"] = "gold"
        response = await ingest_client.post("/v1/ingest/housing_fund", json={"records": records}, headers=HPF)
        problem = assert_problem(response, 422, "validation_failed")
        assert [e["field"] for e in problem["errors"]] == [
            "records[1].id_number",
            "records[3].balance_fen",
            "records[4].bank_card.color",
        ]
        assert await fund_rows(db) == []
        assert await db.fetchval("SELECT count(*) FROM audit_events WHERE action LIKE 'exchange.%'") == 0

    async def test_a_missing_field_is_named_inside_its_record(self, ingest_client: Client) -> None:
        records = accounts(2)
        del records[1]["status"]
        response = await ingest_client.post("/v1/ingest/housing_fund", json={"records": records}, headers=HPF)
        problem = assert_problem(response, 422, "validation_failed")
        assert [e["field"] for e in problem["errors"]] == ["records[1].status"]

    async def test_more_than_500_records_is_422(self, ingest_client: Client) -> None:
        response = await ingest_client.post("/v1/ingest/housing_fund", json={"records": accounts(501)}, headers=HPF)
        problem = assert_problem(response, 422, "validation_failed")
        assert [e["field"] for e in problem["errors"]] == ["records"]

    async def test_a_conflict_found_while_writing_rolls_back_the_whole_batch(
        self, ingest_client: Client, db: asyncpg.Connection
    ) -> None:
        records = accounts(2)
        records[1]["id_number"] = records[0]["id_number"]  # one person, two accounts
        response = await ingest_client.post("/v1/ingest/housing_fund", json={"records": records}, headers=HPF)
        problem = assert_problem(response, 409, "conflict")
        assert [e["field"] for e in problem["errors"]] == ["records[1].id_number"]
        assert await fund_rows(db) == []

    async def test_identities_with_photos_and_households(self, ingest_client: Client, db: asyncpg.Connection) -> None:
        a, b = bodies.person(1), bodies.person(2)
        response = await ingest_client.post(
            "/v1/ingest/identity", json={"records": [bodies.identity(a), bodies.identity(b)]}, headers=POLICE
        )
        assert response.status_code == 200, response.text
        bad_photo = bodies.identity(b, photo=bodies.b64(b"GIF89a nope"))
        response = await ingest_client.post("/v1/ingest/identity", json={"records": [bad_photo]}, headers=POLICE)
        assert [e["field"] for e in assert_problem(response, 422, "validation_failed")["errors"]] == [
            "records[0].photo"
        ]
        household = bodies.household("HH1", a, b)
        response = await ingest_client.post("/v1/ingest/household", json={"records": [household]}, headers=POLICE)
        assert response.status_code == 200, response.text
        record = await frontdb.household(db, b)
        assert record is not None
        assert record.household_no == "HH1"
        assert await db.fetchval("SELECT DISTINCT updated_by FROM shared.identities") == "police"

    async def test_the_batch_is_audited_as_the_department_without_id_numbers(
        self, ingest_client: Client, db: asyncpg.Connection
    ) -> None:
        await ingest_client.post("/v1/ingest/housing_fund", json={"records": accounts(2)}, headers=HPF)
        row = await db.fetchrow(
            "SELECT actor_type, actor_id, subject_id, details FROM audit_events"
            " WHERE action = 'exchange.records_written'"
        )
        assert row is not None
        assert (row["actor_type"], row["actor_id"], row["subject_id"]) == (
            "client",
            "department:hpf-center",
            "housing_fund",
        )
        assert row["details"] == {"by": "hpf-center", "created": 2, "records": 2}


class TestFundCentreCity:
    """Issue 12: the fund account carries the fund centre's city with its GB/T 2260 code."""

    async def test_a_city_without_a_code_is_stored_with_its_code(
        self, ingest_client: Client, db: asyncpg.Connection
    ) -> None:
        records = [bodies.fund(bodies.person(1), "ZZ0001", city="郑州市"), bodies.fund(bodies.person(2), "ZZ0002")]
        response = await ingest_client.post("/v1/ingest/housing_fund", json={"records": records}, headers=HPF)
        assert response.status_code == 200, response.text
        rows = await fund_rows(db)
        assert [(r["city"], r["division_code"]) for r in rows] == [("郑州市", "410100"), (None, None)]
        record = await frontdb.housing_fund(db, bodies.person(1))
        assert record is not None
        assert (record.city, record.division_code) == ("郑州市", "410100")

    @pytest.mark.parametrize(
        ("place", "field"),
        [
            ({"city": "火星"}, "records[1].city"),
            ({"city": "郑东新区"}, "records[1].city"),  # a development zone, not a division
            ({"city": "河南省"}, "records[1].city"),  # a province is not a city
            ({"city": "郑州市", "division_code": "419999"}, "records[1].division_code"),
        ],
    )
    async def test_an_unresolvable_city_is_422_naming_the_field_and_writes_nothing(
        self, ingest_client: Client, db: asyncpg.Connection, place: dict[str, str], field: str
    ) -> None:
        good = bodies.fund(bodies.person(1), "ZZ0001", city="郑州")
        records = [good, bodies.fund(bodies.person(2), "ZZ0002", **place)]
        response = await ingest_client.post("/v1/ingest/housing_fund", json={"records": records}, headers=HPF)
        problem = assert_problem(response, 422, "validation_failed")
        assert [e["field"] for e in problem["errors"]] == [field]
        assert await fund_rows(db) == []


class TestEstatePlaces:
    """Issue 12: a property whose place names no city is refused by field, never stored as "elsewhere"."""

    async def estate_rows(self, db: asyncpg.Connection) -> list[asyncpg.Record]:
        return await db.fetch("SELECT certificate_no, city, division_code FROM shared.estate_properties")

    async def test_an_unresolvable_city_is_422_naming_it_and_writes_nothing(
        self, ingest_client: Client, db: asyncpg.Connection
    ) -> None:
        owner = bodies.person(1)
        bad = bodies.estate("豫(2026)火星不动产权第0000001号", owner, city="火星", address="火星基地 1 号")
        response = await ingest_client.post("/v1/ingest/estate", json={"records": [bad]}, headers=ESTATE)
        problem = assert_problem(response, 422, "validation_failed")
        assert [e["field"] for e in problem["errors"]] == ["records[0].city"]
        assert await self.estate_rows(db) == []

    async def test_a_full_place_name_is_stored_with_its_code(
        self, ingest_client: Client, db: asyncpg.Connection
    ) -> None:
        owner = bodies.person(1)
        good = bodies.estate("豫(2026)郑州市不动产权第0000002号", owner, city="郑州市")
        response = await ingest_client.post("/v1/ingest/estate", json={"records": [good]}, headers=ESTATE)
        assert response.status_code == 200, response.text
        assert [tuple(r)[1:] for r in await self.estate_rows(db)] == [("郑州市", "410100")]
