"""Mini-program tests: the sandbox platform through the real app, and a face engine for binding."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.app import create_app
from haoban.identity.face.engine import ProcessPoolFaceEngine
from haoban.identity.face.settings import FaceSettings
from haoban.kit.clock import FrozenClock
from tests.conftest import make_settings
from tests.identity import flows


@pytest.fixture(scope="session")
def engine() -> Iterator[ProcessPoolFaceEngine]:
    face_engine = ProcessPoolFaceEngine(FaceSettings(workers=2, queue_per_worker=1))
    asyncio.run(face_engine.warm_up())
    yield face_engine
    asyncio.run(face_engine.close())


@pytest.fixture
async def mp_client(
    db_url: str, clock: FrozenClock, engine: ProcessPoolFaceEngine
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    app = create_app(make_settings(db_url), database_url=db_url, clock=clock, face_engine=engine)
    async with AsyncTestClient(app=app) as client:
        await flows.add_client(client)
        yield client
