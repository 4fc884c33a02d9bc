"""Readiness: database, face engine (models loaded) and outbox lag; liveness stays trivial."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.app import create_app
from haoban.identity.face.engine import ProcessPoolFaceEngine
from haoban.kit.clock import FrozenClock
from haoban.outbox import repository as outbox_repo
from haoban.runtime import Runtime
from haoban.settings import Settings
from tests.conftest import make_settings, with_database


class LoadedEngine(ProcessPoolFaceEngine):
    """The real engine class, marked loaded without starting workers (the outbox tests do no face work)."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings.face)
        self._loaded = True


@pytest.fixture
async def loaded(db_url: str, clock: FrozenClock) -> AsyncIterator[AsyncTestClient[Litestar]]:
    settings = make_settings(db_url, HAOBAN_OUTBOX_WORKER="false", HAOBAN_READY_OUTBOX_LAG_S="60")
    engine = LoadedEngine(settings)
    app = create_app(settings, database_url=db_url, clock=clock, face_engine=engine)
    try:
        async with AsyncTestClient(app=app, base_url="http://haoban.test") as c:
            yield c
    finally:
        await engine.close()


async def test_ready_when_everything_answers(loaded: AsyncTestClient[Litestar]) -> None:
    response = await loaded.get("/health/ready")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "status": "ok", "database": "ok", "face_engine": "ok", "outbox": "ok", "outbox_oldest_age_s": 0.0
    }  # fmt: skip


async def test_not_ready_when_the_oldest_outbox_row_is_older_than_the_setting(
    loaded: AsyncTestClient[Litestar], db: asyncpg.Connection, clock: FrozenClock
) -> None:
    await outbox_repo.insert(db, kind="test.kind", ref="young", payload={}, at=clock.now() - timedelta(seconds=59))
    assert (await loaded.get("/health/ready")).status_code == 200
    await outbox_repo.insert(db, kind="test.kind", ref="old", payload={}, at=clock.now() - timedelta(seconds=61))
    response = await loaded.get("/health/ready")
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    checks = response.json()["extra"]["checks"]
    assert checks["outbox"] == "lagging"
    assert checks["outbox_oldest_age_s"] == 61
    assert checks["database"] == "ok"
    assert (await loaded.get("/health/live")).status_code == 200  # liveness does not care


async def test_not_ready_when_the_database_refuses_connections(
    loaded: AsyncTestClient[Litestar], db: asyncpg.Connection, pg_server_url: str
) -> None:
    name = await db.fetchval("SELECT current_database()")
    admin = await asyncpg.connect(with_database(pg_server_url, "postgres"))
    await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
    try:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
            name,
        )
        response = await loaded.get("/health/ready")
        assert response.status_code == 503
        assert response.json()["extra"]["checks"]["database"] == "down"
        assert (await loaded.get("/health/live")).status_code == 200
    finally:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        await admin.close()


async def test_a_fresh_worker_turns_ready_once_the_face_models_are_loaded(client: AsyncTestClient[Litestar]) -> None:
    first = await client.get("/health/ready")
    assert first.status_code == 503
    assert first.json()["extra"]["checks"]["face_engine"] == "loading"
    # The app runs on the test client's own loop: poll as an orchestrator would (up to ~5 minutes).
    for _ in range(600):
        response = await client.get("/health/ready")
        if response.status_code == 200:
            break
        assert response.json()["extra"]["checks"]["face_engine"] == "loading"
        await asyncio.sleep(0.5)
    assert response.status_code == 200, response.text
    runtime: Runtime = client.app.state.runtime
    assert runtime.face.loaded
