"""ID numbers at the boundary: normalised as a person means them, and the check digit verified first."""

from __future__ import annotations

import uuid

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.identity import flows
from tests.identity.flows import CLIENT, TERMS

VALID = "11010519491231002X"
WRONG_CHECK_DIGIT = "110105194912310021"


@pytest.fixture
async def app_client(client: AsyncTestClient[Litestar]) -> AsyncTestClient[Litestar]:
    await flows.add_client(client)
    return client


def full_width(text: str) -> str:
    """The characters a Chinese phone keyboard types in full-width mode."""
    return "".join(chr(ord(c) + 0xFEE0) for c in text)


@pytest.mark.parametrize(
    "typed",
    [
        "11010519491231002x",
        full_width("11010519491231002X"),
        "  11010519491231002X ",
        "110105 19491231 002x",
    ],
)
async def test_a_challenge_takes_the_id_number_as_a_person_types_it(
    app_client: AsyncTestClient[Litestar], typed: str
) -> None:
    response = await app_client.post(
        "/v1/auth/face/challenges", json={"id_number": typed, "purpose": "login"}, headers=CLIENT
    )
    assert response.status_code == 201, response.text


async def test_a_wrong_check_digit_is_refused_before_any_face_challenge(
    app_client: AsyncTestClient[Litestar],
) -> None:
    response = await app_client.post(
        "/v1/auth/face/challenges", json={"id_number": WRONG_CHECK_DIGIT, "purpose": "register"}, headers=CLIENT
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_failed"
    assert [e["field"] for e in response.json()["errors"]] == ["id_number"]


async def test_registration_refuses_a_wrong_check_digit_and_reads_a_lowercase_x(
    app_client: AsyncTestClient[Litestar],
) -> None:
    body = {
        "challenge_id": str(uuid.uuid4()),
        "name": "格蕾丝",
        "frames": flows.b64([b"0" * 32] * 3),
        "consent": TERMS,
    }
    wrong = await app_client.post("/v1/auth/register", json={**body, "id_number": WRONG_CHECK_DIGIT}, headers=CLIENT)
    assert wrong.status_code == 422, wrong.text
    assert [e["field"] for e in wrong.json()["errors"]] == ["id_number"]
    # A lowercase x passes the boundary: the unknown challenge is what stops it.
    lower = await app_client.post("/v1/auth/register", json={**body, "id_number": VALID.lower()}, headers=CLIENT)
    assert lower.json()["code"] == "challenge_invalid", lower.text


async def test_sandbox_data_is_stored_under_the_normalised_number(client: AsyncTestClient[Litestar]) -> None:
    from tests.sandbox import bodies

    response = await client.post("/sandbox/identities", json=bodies.identity("11010519491231002x", name="格蕾丝"))
    assert response.status_code in (200, 201), response.text
    again = await client.post("/sandbox/identities", json=bodies.identity(VALID, name="格蕾丝"))
    assert again.status_code == 200, again.text
