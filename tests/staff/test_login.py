"""Staff sign-in: one 401 body for every failure, disabled accounts (the throttle: test_login_throttle.py)."""

from __future__ import annotations

from typing import Any, cast

import asyncpg
import jwt
from httpx import Response
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.kit.clock import FrozenClock
from haoban.settings import Settings
from haoban.staff import service as staff_service
from haoban.staff.tokens import STAFF_AUDIENCE
from tests.staff.factories import PASSWORD, TEST_ACTOR, make_staff


def _comparable(response: Response) -> tuple[int, dict[str, Any]]:
    body = {k: v for k, v in response.json().items() if k not in {"request_id", "instance"}}
    return response.status_code, body


async def _login(client: AsyncTestClient[Litestar], username: str, password: str) -> Response:
    return await client.post("/v1/staff/login", json={"username": username, "password": password})


async def test_login_gives_a_short_lived_staff_token(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, clock: FrozenClock, settings: Settings
) -> None:
    staff_id = await make_staff(db, now=clock.now())
    response = await _login(client, "li.reviewer", PASSWORD)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["staff"] == {
        "staff_id": str(staff_id),
        "username": "li.reviewer",
        "display_name": "李审核",
        "roles": [{"department": "housing_security", "role": "reviewer"}],
    }
    assert 0 < body["expires_in"] <= 600
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["aud"] == STAFF_AUDIENCE == "haoban-staff"
    assert claims["aud"] != settings.security.api_audience  # never a citizen token
    assert claims["sub"] == str(staff_id)
    assert claims["exp"] - claims["iat"] == body["expires_in"]
    assert jwt.get_unverified_header(body["access_token"])["alg"] == "ES256"
    audited = await db.fetchval(
        "SELECT count(*) FROM audit_events WHERE action = 'staff.login' AND actor_id = $1", str(staff_id)
    )
    assert audited == 1


async def test_username_is_case_insensitive(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, clock: FrozenClock
) -> None:
    await make_staff(db, now=clock.now())
    assert (await _login(client, " Li.Reviewer ", PASSWORD)).status_code == 200


async def test_unknown_user_and_wrong_password_get_the_same_401(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, clock: FrozenClock
) -> None:
    await make_staff(db, now=clock.now())
    wrong = await _login(client, "li.reviewer", "not the password at all")
    unknown = await _login(client, "nobody.here", "not the password at all")
    assert wrong.status_code == 401
    assert _comparable(wrong) == _comparable(unknown)
    assert wrong.json()["code"] == "invalid_credentials"
    assert "access_token" not in wrong.text


async def test_a_disabled_account_gets_the_same_401(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, clock: FrozenClock
) -> None:
    await make_staff(db, now=clock.now())
    unknown = await _login(client, "nobody.here", PASSWORD)
    async with db.transaction():
        await staff_service.set_disabled(db, username="li.reviewer", disabled=True, actor=TEST_ACTOR, now=clock.now())
    disabled = await _login(client, "li.reviewer", PASSWORD)
    assert _comparable(disabled) == _comparable(unknown)


async def test_failed_logins_are_audited(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, clock: FrozenClock
) -> None:
    staff_id = await make_staff(db, now=clock.now())
    await _login(client, "li.reviewer", "wrong password here")
    row = cast(
        "asyncpg.Record",
        await db.fetchrow("SELECT actor_id, details FROM audit_events WHERE action = 'staff.login_failed'"),
    )
    assert row["actor_id"] == str(staff_id)
    assert row["details"]["known"] is True
    assert len(row["details"]["address_key"]) == 64  # a keyed hash, never the address


async def test_an_overlong_password_is_a_validation_error(client: AsyncTestClient[Litestar]) -> None:
    response = await _login(client, "li.reviewer", "x" * 257)
    assert response.status_code == 422
