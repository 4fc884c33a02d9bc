"""Staff sign-in throttles per username at a source address and per address, and never locks a username alone.

Each request names its source address with a test-only header that a wrapper turns
into the ASGI peer, so one test plays the attacker and the staff member.
"""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from litestar.types import ASGIApp, Receive, Scope, Send

from haoban.kit.clock import FrozenClock
from haoban.staff.throttle import PER_ADDRESS
from tests.staff.factories import PASSWORD, make_staff

Client = AsyncTestClient[Litestar]
ATTACKER, STAFF = "203.0.113.66", "198.51.100.7"
WRONG = "wrong password here"


class PeerFromHeader:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":  # type: ignore[comparison-overlap]
            for name, value in scope["headers"]:
                if name == b"x-test-peer":
                    scope["client"] = (value.decode(), 40000)
        await self.app(scope, receive, send)


@pytest.fixture
async def peers(app: Litestar, client: Client) -> Client:
    app.asgi_handler = PeerFromHeader(app.asgi_handler)
    return client


async def login(client: Client, password: str, *, peer: str, username: str = "li.reviewer") -> int:
    response = await client.post(
        "/v1/staff/login", json={"username": username, "password": password}, headers={"x-test-peer": peer}
    )
    return response.status_code


async def test_failures_from_elsewhere_never_lock_the_staff_member_out(
    peers: Client, db: asyncpg.Connection, clock: FrozenClock
) -> None:
    """Today 5 failures lock a username for 15 minutes; anyone who knows the username can do it."""
    await make_staff(db, now=clock.now())
    statuses = [await login(peers, WRONG, peer=ATTACKER) for _ in range(12)]
    assert statuses[:3] == [401, 401, 401]
    assert 429 in statuses
    assert await login(peers, PASSWORD, peer=STAFF) == 200


async def test_failures_at_one_address_grow_a_wait(peers: Client, db: asyncpg.Connection, clock: FrozenClock) -> None:
    await make_staff(db, now=clock.now())
    for _ in range(3):
        assert await login(peers, WRONG, peer=ATTACKER) == 401
    first = await peers.post(
        "/v1/staff/login", json={"username": "li.reviewer", "password": PASSWORD}, headers={"x-test-peer": ATTACKER}
    )
    assert first.status_code == 429
    assert first.json()["code"] == "staff_login_locked"
    wait = int(first.headers["retry-after"])
    assert wait >= 1

    clock.advance(timedelta(seconds=wait + 1))
    assert await login(peers, WRONG, peer=ATTACKER) == 401
    second = await peers.post(
        "/v1/staff/login", json={"username": "li.reviewer", "password": WRONG}, headers={"x-test-peer": ATTACKER}
    )
    assert second.status_code == 429
    assert int(second.headers["retry-after"]) > wait  # growing

    clock.advance(timedelta(seconds=int(second.headers["retry-after"]) + 1))
    assert await login(peers, PASSWORD, peer=ATTACKER) == 200  # the right password, once the wait is over
    assert await login(peers, WRONG, peer=ATTACKER) == 401  # and the streak starts again from one


async def test_an_unknown_username_is_throttled_the_same_way(peers: Client) -> None:
    """The throttle says nothing about whether the account exists."""
    statuses = [await login(peers, WRONG, peer=ATTACKER, username="ghost.user") for _ in range(4)]
    assert statuses == [401, 401, 401, 429]


async def test_one_address_spraying_many_usernames_is_limited(peers: Client) -> None:
    per_minute = PER_ADDRESS[0].limit
    statuses = [await login(peers, WRONG, peer=ATTACKER, username=f"user.{i}") for i in range(per_minute + 1)]
    assert statuses[:per_minute] == [401] * per_minute
    assert statuses[-1] == 429
    assert await login(peers, WRONG, peer=STAFF, username="user.0") == 401  # another address is not affected
