"""applications.read / applications.write on the applications routes; a client's payout still needs the face."""

from __future__ import annotations

import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.audit.schemas import Actor
from haoban.kit.clock import FrozenClock
from haoban.oauth.clients import create_client
from haoban.settings import Settings
from tests.applications.people import person
from tests.factories import bearer
from tests.oauth import flows

Client = AsyncTestClient[Litestar]
RENT = {"service_code": "hpf.withdraw.rent", "inputs": {}}
WRITER = "writer-miniprogram"


async def _delegated(
    oauth: Client, db: asyncpg.Connection, settings: Settings, clock: FrozenClock, *, access: str, scope: str
) -> str:
    """A token of a client that may hold applications.write, approved by the citizen with `scope`."""
    if await db.fetchval("SELECT count(*) FROM oauth_clients WHERE client_id = $1", WRITER) == 0:
        async with db.transaction():
            await create_client(
                db,
                hmac_key=settings.security.token_hmac_key,
                client_id=WRITER,
                client_type="public",
                display_name="办事小程序",
                purpose="Apply for services in the mini-program",
                redirect_uris=[flows.REDIRECT],
                scopes=["openid", "hpf.read", "applications.read", "applications.write"],
                secret=None,
                now=clock.now(),
                actor=Actor(type="system", id="tests"),
            )
    code = await flows.code(oauth, access, scope=scope, client_id=WRITER)
    response = await flows.exchange(oauth, code, client_id=WRITER)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


async def test_read_scope_lists_the_citizens_applications_and_write_is_needed_to_apply(
    oauth: Client, db: asyncpg.Connection, settings: Settings, clock: FrozenClock
) -> None:
    renter = await person(oauth, db, settings, clock, seq=351)
    mine = await oauth.post("/v1/applications", json=RENT, headers=renter.headers)
    assert mine.status_code == 201, mine.text
    reader = await _delegated(oauth, db, settings, clock, access=renter.token, scope="openid applications.read")
    listed = await oauth.get("/v1/applications", headers=bearer(reader))
    assert listed.status_code == 200
    assert [a["application_id"] for a in listed.json()["applications"]] == [mine.json()["application_id"]]
    assert (await oauth.get("/v1/me/notifications", headers=bearer(reader))).status_code == 200
    refused = await oauth.post("/v1/applications", json=RENT, headers=bearer(reader))
    assert refused.status_code == 403
    assert refused.json()["code"] == "insufficient_scope"


async def test_a_token_without_applications_read_is_403(
    oauth: Client, db: asyncpg.Connection, settings: Settings, clock: FrozenClock
) -> None:
    renter = await person(oauth, db, settings, clock, seq=352)
    other = await _delegated(oauth, db, settings, clock, access=renter.token, scope="openid hpf.read")
    response = await oauth.get("/v1/applications", headers=bearer(other))
    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"


async def test_a_withdrawal_started_by_a_client_still_needs_the_face_in_the_app(
    oauth: Client, db: asyncpg.Connection, settings: Settings, clock: FrozenClock
) -> None:
    renter = await person(oauth, db, settings, clock, seq=353)
    writer = await _delegated(
        oauth, db, settings, clock, access=renter.token, scope="openid applications.read applications.write"
    )
    response = await oauth.post("/v1/applications", json=RENT, headers=bearer(writer))
    assert response.status_code == 401
    assert response.json()["code"] == "step_up_required"
    assert await db.fetchval("SELECT count(*) FROM applications") == 0
    assert await db.fetchval("SELECT count(*) FROM payouts") == 0
