"""Bad input to the sandbox source routes is 422 (or 413) naming the field, and nothing is written."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

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

BAD_ID = bodies.wrong_check_digit(bodies.person(1))
GOOD = bodies.person(2)


class TestInvalidInputIs422NamingTheFieldAndWritesNothing:
    @pytest.mark.parametrize(
        ("path", "body", "field"),
        [
            ("/sandbox/identities", {**bodies.identity(GOOD), "id_number": BAD_ID}, "id_number"),
            ("/sandbox/estate/properties", bodies.estate("C1", GOOD, BAD_ID), "owner_id_numbers[1]"),
            ("/sandbox/households", bodies.household("HH1", BAD_ID, GOOD), "members[0].id_number"),
            ("/sandbox/marriages", bodies.marriage(GOOD, BAD_ID), "spouse_id_number"),
            ("/sandbox/social-security", bodies.social(BAD_ID), "id_number"),
            ("/sandbox/housing-fund/accounts", bodies.fund(BAD_ID), "id_number"),
        ],
    )
    async def test_wrong_check_digit(
        self, client: Client, db: asyncpg.Connection, path: str, body: dict[str, Any], field: str
    ) -> None:
        problem = assert_problem(await client.post(path, json=body), 422, "validation_failed")
        assert bodies.fields(problem) == [field]
        assert set((await bodies.counts(db)).values()) == {0}

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            (bodies.fund(GOOD, balance_fen=-1), "balance_fen"),
            (bodies.fund(GOOD, loan_outstanding_fen=-100), "loan_outstanding_fen"),
            (
                bodies.fund(
                    GOOD,
                    withdrawals=[{"withdrawn_on": "2025-01-01", "kind": "rent", "amount_fen": 0, "reference": "R"}],
                ),
                "withdrawals[0].amount_fen",
            ),
            (bodies.fund(GOOD, balance_fen=1.5), "balance_fen"),
            (bodies.fund(GOOD, bank_card={"bank_name": "x", "card_no": "12"}), "bank_card.card_no"),
        ],
    )
    async def test_bad_money_and_numbers(
        self, client: Client, db: asyncpg.Connection, body: dict[str, Any], field: str
    ) -> None:
        problem = assert_problem(
            await client.post("/sandbox/housing-fund/accounts", json=body), 422, "validation_failed"
        )
        assert bodies.fields(problem) == [field]
        assert set((await bodies.counts(db)).values()) == {0}

    async def test_unknown_field(self, client: Client) -> None:
        problem = assert_problem(
            await client.post("/sandbox/social-security", json=bodies.social(GOOD, nickname="x")),
            422,
            "validation_failed",
        )
        assert bodies.fields(problem) == ["nickname"]

    async def test_birth_date_and_sex_must_agree_with_the_id_number(self, client: Client) -> None:
        body = bodies.identity(GOOD, birth_date="1991-01-01", sex="M" if idnumber.sex(GOOD) == "F" else "F")
        problem = assert_problem(await client.post("/sandbox/identities", json=body), 422, "validation_failed")
        assert bodies.fields(problem) == ["birth_date", "sex"]

    @pytest.mark.parametrize(
        ("body", "expected"),
        [
            (bodies.marriage(GOOD, None, status="married"), ["spouse_id_number", "spouse_name", "registered_on"]),
            (
                bodies.marriage(GOOD, bodies.person(3), status="unmarried"),
                ["spouse_id_number", "spouse_name", "registered_on"],
            ),
            (bodies.marriage(GOOD, GOOD), ["spouse_id_number"]),
        ],
    )
    async def test_marriage_fields_must_fit_the_status(
        self, client: Client, body: dict[str, Any], expected: list[str]
    ) -> None:
        problem = assert_problem(await client.post("/sandbox/marriages", json=body), 422, "validation_failed")
        assert bodies.fields(problem) == expected

    async def test_a_person_listed_twice(self, client: Client) -> None:
        response = await client.post("/sandbox/estate/properties", json=bodies.estate("C1", GOOD, GOOD))
        assert bodies.fields(assert_problem(response, 422, "validation_failed")) == ["owner_id_numbers[1]"]

    async def test_a_second_fund_account_for_one_person_is_409(self, client: Client, db: asyncpg.Connection) -> None:
        assert (await client.post("/sandbox/housing-fund/accounts", json=bodies.fund(GOOD, "A1"))).status_code == 201
        before = await db.fetch("SELECT * FROM shared.hpf_accounts")
        problem = assert_problem(
            await client.post("/sandbox/housing-fund/accounts", json=bodies.fund(GOOD, "A2")), 409, "conflict"
        )
        assert bodies.fields(problem) == ["id_number"]
        assert await db.fetch("SELECT * FROM shared.hpf_accounts") == before


class TestPhotoMustBeASmallRealJpegOrPng:
    @pytest.mark.parametrize(
        "photo",
        [
            bodies.b64(b"this is not an image at all"),
            "not base64 !!",
            bodies.b64(bodies.image("GIF")),
            bodies.b64(bodies.image("JPEG")[:40]),
            # 50 megapixels of 1-bit PNG compress to a few KB: a decompression bomb.
            bodies.b64(bodies.image("PNG", size=(10_000, 5_000), mode="1")),
        ],
        ids=["not-an-image", "not-base64", "gif", "truncated-jpeg", "too-many-pixels"],
    )
    async def test_bad_photo_is_422_photo(self, client: Client, db: asyncpg.Connection, photo: str) -> None:
        body = bodies.identity(GOOD, photo=photo)
        problem = assert_problem(await client.post("/sandbox/identities", json=body), 422, "validation_failed")
        assert bodies.fields(problem) == ["photo"]
        assert await db.fetchval("SELECT count(*) FROM shared.identities") == 0

    async def test_png_is_accepted(self, client: Client) -> None:
        body = bodies.identity(GOOD, photo=bodies.b64(bodies.image("PNG")))
        assert (await client.post("/sandbox/identities", json=body)).status_code == 201

    async def test_photo_over_1_mib_decoded_is_422(self, client: Client) -> None:
        photo = bodies.b64(bodies.image("JPEG") + b"\0" * 1_048_576)
        problem = assert_problem(
            await client.post("/sandbox/identities", json=bodies.identity(GOOD, photo=photo)), 422, "validation_failed"
        )
        assert bodies.fields(problem) == ["photo"]

    async def test_body_over_2_mib_is_413(self, client: Client) -> None:
        photo = bodies.b64(b"\0" * 1_700_000)
        response = await client.post("/sandbox/identities", json=bodies.identity(GOOD, photo=photo))
        assert_problem(response, 413, "payload_too_large")


@pytest.fixture
async def production_client(db_url: str, clock: FrozenClock) -> AsyncIterator[Client]:
    app = create_app(make_settings(db_url, HAOBAN_SANDBOX="false"), database_url=db_url, clock=clock)
    async with AsyncTestClient(app=app) as c:
        yield c


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/sandbox/identities", bodies.identity(GOOD)),
        ("/sandbox/households", bodies.household("HH1", GOOD)),
        ("/sandbox/housing-fund/accounts", bodies.fund(GOOD)),
        ("/sandbox/estate/properties", bodies.estate("C1", GOOD)),
        ("/sandbox/marriages", bodies.marriage(GOOD)),
        ("/sandbox/social-security", bodies.social(GOOD)),
    ],
)
async def test_routes_are_404_when_sandbox_is_off(
    production_client: Client, db: asyncpg.Connection, path: str, body: dict[str, Any]
) -> None:
    assert_problem(await production_client.post(path, json=body), 404, "not_found")
    assert set((await bodies.counts(db)).values()) == {0}
