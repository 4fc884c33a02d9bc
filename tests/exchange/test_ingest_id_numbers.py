"""Ingestion batches take ID numbers the way people type them and store the canonical form."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.app import create_app
from haoban.kit import idnumber
from haoban.kit.clock import FrozenClock
from tests.conftest import make_settings
from tests.sandbox import bodies
from tests.test_http_conventions import assert_problem

Client = AsyncTestClient[Litestar]

SECRET = "registry-long-secret-789"
HEADERS = {"Authorization": f"Bearer {SECRET}"}


def ending_in_x(n: int) -> list[str]:
    """`n` valid ID numbers whose check digit is X (the case people type as lowercase)."""
    found = (idnumber.make("410105", date(1980, 2, 29), f"{seq:03d}") for seq in range(1, 1000))
    return [i for i in found if i.endswith("X")][:n]


def lower(id_number: str) -> str:
    return id_number.lower()


def full_width(id_number: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) for c in id_number)


def spaced(id_number: str) -> str:
    return f" {id_number[:6]} {id_number[6:]} "


A, B, C = ending_in_x(3)


@pytest.fixture
async def client(db_url: str, clock: FrozenClock) -> AsyncIterator[Client]:
    credentials = f"registry:identity+household+estate+marriage:{SECRET}"
    settings = make_settings(db_url, HAOBAN_SANDBOX="false", HAOBAN_DEPARTMENT_CREDENTIALS=credentials)
    async with AsyncTestClient(app=create_app(settings, database_url=db_url, clock=clock)) as http:
        yield http


class TestTypedFormsAreStoredCanonical:
    async def test_property_owners_in_a_list(self, client: Client, db: asyncpg.Connection) -> None:
        record = bodies.estate("CERT-1", lower(A), full_width(B), spaced(C))
        response = await client.post("/v1/ingest/estate", json={"records": [record]}, headers=HEADERS)
        assert response.status_code == 200, response.text
        stored = await db.fetch("SELECT id_number FROM shared.estate_owners ORDER BY id_number")
        assert [r["id_number"] for r in stored] == sorted([A, B, C])

    async def test_marriage_person_and_spouse(self, client: Client, db: asyncpg.Connection) -> None:
        record = bodies.marriage(full_width(lower(A)), spouse=lower(B))
        response = await client.post("/v1/ingest/marriage", json={"records": [record]}, headers=HEADERS)
        assert response.status_code == 200, response.text
        row = await db.fetchrow("SELECT id_number, spouse_id_number FROM shared.marriages")
        assert row is not None
        assert (row["id_number"], row["spouse_id_number"]) == (A, B)

    async def test_identity_and_household_members(self, client: Client, db: asyncpg.Connection) -> None:
        identity = {**bodies.identity(A), "id_number": lower(A)}
        response = await client.post("/v1/ingest/identity", json={"records": [identity]}, headers=HEADERS)
        assert response.status_code == 200, response.text
        assert await db.fetchval("SELECT id_number FROM shared.identities") == A

        household = bodies.household("HH9", spaced(A), full_width(B))
        response = await client.post("/v1/ingest/household", json={"records": [household]}, headers=HEADERS)
        assert response.status_code == 200, response.text
        stored = await db.fetch("SELECT id_number FROM shared.household_members ORDER BY id_number")
        assert [r["id_number"] for r in stored] == sorted([A, B])


class TestWrongCheckDigitNamesTheExactPath:
    async def test_the_second_owner(self, client: Client, db: asyncpg.Connection) -> None:
        record = bodies.estate("CERT-2", lower(A), full_width(bodies.wrong_check_digit(B)))
        response = await client.post("/v1/ingest/estate", json={"records": [record]}, headers=HEADERS)
        problem = assert_problem(response, 422, "validation_failed")
        assert bodies.fields(problem) == ["records[0].owner_id_numbers[1]"]
        assert await db.fetchval("SELECT count(*) FROM shared.estate_owners") == 0

    async def test_a_member_and_a_spouse(self, client: Client, db: asyncpg.Connection) -> None:
        household = bodies.household("HH8", lower(A), spaced(bodies.wrong_check_digit(B)))
        response = await client.post("/v1/ingest/household", json={"records": [household]}, headers=HEADERS)
        problem = assert_problem(response, 422, "validation_failed")
        assert bodies.fields(problem) == ["records[0].members[1].id_number"]

        marriages = [bodies.marriage(B), bodies.marriage(lower(A), spouse=lower(bodies.wrong_check_digit(C)))]
        response = await client.post("/v1/ingest/marriage", json={"records": marriages}, headers=HEADERS)
        problem = assert_problem(response, 422, "validation_failed")
        assert bodies.fields(problem) == ["records[1].spouse_id_number"]
        assert await db.fetchval("SELECT count(*) FROM shared.marriages") == 0
