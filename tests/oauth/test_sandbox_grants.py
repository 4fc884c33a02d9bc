"""A grant a citizen approved in a sandbox session ends with the sandbox, as the session does.

Sandbox sessions (amr `sandbox`) are minted without a face, so once the sandbox is
off neither their first-party tokens nor the OAuth grants approved in them may be
used: a delegated access token is refused, and its refresh token rotates no more.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.app import create_app
from haoban.kit.clock import FrozenClock
from haoban.settings import Settings
from tests.conftest import make_settings
from tests.oauth import flows


@pytest.fixture
async def closed(db_url: str, clock: FrozenClock) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """The same database served with the sandbox off."""
    app = create_app(make_settings(db_url, HAOBAN_SANDBOX="false"), database_url=db_url, clock=clock)
    async with AsyncTestClient(app=app, base_url="http://haoban.test") as c:
        yield c


async def _grant(
    oauth: AsyncTestClient[Litestar],
    db: asyncpg.Connection,
    settings: Settings,
    clock: FrozenClock,
    amr: tuple[str, ...],
) -> dict[str, Any]:
    access = await flows.face_token(db, settings, clock, await flows.citizen(oauth), amr=amr)
    return await flows.tokens(oauth, access)


def _refresh(token: str) -> dict[str, str]:
    return {"grant_type": "refresh_token", "client_id": flows.PUBLIC_ID, "refresh_token": token}


async def test_a_sandbox_grant_is_refused_once_the_sandbox_is_off(
    oauth: AsyncTestClient[Litestar],
    closed: AsyncTestClient[Litestar],
    db: asyncpg.Connection,
    settings: Settings,
    clock: FrozenClock,
) -> None:
    tokens = await _grant(oauth, db, settings, clock, ("face", "sandbox"))
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (await oauth.get("/oauth/userinfo", headers=bearer)).status_code == 200
    assert (await closed.get("/oauth/userinfo", headers=bearer)).status_code == 401
    refused = await closed.post("/oauth/token", data=_refresh(tokens["refresh_token"]))
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"] == "invalid_grant"


async def test_a_grant_from_a_real_face_session_outlives_the_sandbox(
    oauth: AsyncTestClient[Litestar],
    closed: AsyncTestClient[Litestar],
    db: asyncpg.Connection,
    settings: Settings,
    clock: FrozenClock,
) -> None:
    tokens = await _grant(oauth, db, settings, clock, ("face",))
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (await closed.get("/oauth/userinfo", headers=bearer)).status_code == 200
    rotated = await closed.post("/oauth/token", data=_refresh(tokens["refresh_token"]))
    assert rotated.status_code == 200, rotated.text
