"""The pinned demo clients: loaded with the demo data, and usable as the README says."""

from __future__ import annotations

import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.kit.clock import FrozenClock
from haoban.root import build_runtime
from haoban.sandbox.demo import load_demo_oauth_clients
from haoban.settings import Settings
from tests.oauth import flows


async def test_demo_clients_work_with_their_pinned_values(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, settings: Settings, db_url: str, clock: FrozenClock
) -> None:
    runtime = build_runtime(settings, database_url=db_url, clock=clock)
    for _ in range(2):  # idempotent: loaded at every demo start
        async with db.transaction():
            await load_demo_oauth_clients(db, runtime)
    assert await db.fetchval("SELECT count(*) FROM oauth_clients") == 2

    pushed = await flows.push(client)  # demo-miniprogram, https://miniprogram.example/callback
    assert pushed.status_code == 201, pushed.text
    token = await client.post(
        "/oauth/token", data={"grant_type": "client_credentials", "scope": "hpf.read"}, headers=flows.basic()
    )
    assert token.status_code == 200, token.text  # demo-department / demo-department-secret
