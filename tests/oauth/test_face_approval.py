"""End to end with a real face login: the tokens face login issues are what approval's step-up accepts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.app import create_app
from haoban.identity.face.engine import ProcessPoolFaceEngine
from haoban.kit.clock import FrozenClock
from haoban.settings import Settings
from tests.conftest import make_settings
from tests.identity import flows as face
from tests.identity.conftest import SETTINGS as FACE_SETTINGS
from tests.oauth import flows
from tests.sandbox.bodies import person

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def engine() -> Iterator[ProcessPoolFaceEngine]:
    face_engine = ProcessPoolFaceEngine(FACE_SETTINGS)
    yield face_engine
    asyncio.run(face_engine.close())


@pytest.fixture
async def face_client(
    db_url: str, clock: FrozenClock, engine: ProcessPoolFaceEngine, db: asyncpg.Connection, settings: Settings
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    app = create_app(make_settings(db_url), database_url=db_url, clock=clock, face_engine=engine)
    async with AsyncTestClient(app=app) as client:
        await face.add_client(client)
        await flows.register_clients(db, settings.security.token_hmac_key, clock.now())
        yield client


async def test_a_face_login_can_approve_and_the_id_token_says_face(
    face_client: AsyncTestClient[Litestar],
) -> None:
    me = person(601)
    await face.add_identity(face_client, me)
    registered = await face.register(face_client, me, face.grace(61))
    assert registered.status_code == 201, registered.text
    access = registered.json()["access_token"]

    response = await flows.exchange(
        face_client, await flows.code(face_client, access, scope="openid identity.verified")
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id_token"]
    info = await face_client.get("/oauth/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert info.status_code == 200
    assert info.json()["real_name_verified"] is True
    assert info.json()["real_name_level"] == "face"
    assert me not in info.text
