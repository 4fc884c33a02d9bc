"""An app with the demo-shaped OAuth clients registered and a face-verified citizen."""

from __future__ import annotations

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.kit.clock import FrozenClock
from haoban.settings import Settings
from tests.oauth import flows


@pytest.fixture
async def oauth(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, settings: Settings, clock: FrozenClock
) -> AsyncTestClient[Litestar]:
    await flows.register_clients(db, settings.security.token_hmac_key, clock.now())
    return client


@pytest.fixture
async def citizen_access(
    oauth: AsyncTestClient[Litestar], db: asyncpg.Connection, settings: Settings, clock: FrozenClock
) -> str:
    """A face-verified access token of a new citizen (approval needs the step-up)."""
    return await flows.face_token(db, settings, clock, await flows.citizen(oauth))
