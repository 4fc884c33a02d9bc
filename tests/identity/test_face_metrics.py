"""Face outcomes in /metrics: a refused attempt counts once under its reason, a match under `matched`."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.app import create_app
from haoban.identity.face.engine import ProcessPoolFaceEngine
from haoban.kit.clock import FrozenClock
from tests.conftest import make_settings
from tests.identity import flows
from tests.observability.test_metrics import METRICS_TOKEN, sample, scrape
from tests.sandbox.bodies import person

Client = AsyncTestClient[Litestar]
OUTCOMES = "haoban_face_outcomes_total"


@pytest.fixture
async def face_client(db_url: str, clock: FrozenClock, engine: ProcessPoolFaceEngine) -> AsyncIterator[Client]:
    settings = make_settings(db_url, HAOBAN_METRICS_TOKEN=METRICS_TOKEN)
    app = create_app(settings, database_url=db_url, clock=clock, face_engine=engine)
    async with AsyncTestClient(app=app) as client:
        await flows.add_client(client)
        yield client


async def count(client: Client, flow: str, reason: str) -> float:
    _, samples = await scrape(client)
    return sample(samples, OUTCOMES, flow=flow, reason=reason) or 0


async def test_each_refused_attempt_counts_once_under_its_reason(face_client: Client) -> None:
    me = person(331)
    await flows.add_identity(face_client, me)
    assert await count(face_client, "register", "face_mismatch") == 0

    impostor = await flows.register(face_client, me, flows.astronaut(31))
    assert impostor.status_code == 401
    assert await count(face_client, "register", "face_mismatch") == 1

    # A frame set the engine never sees is counted under its own code, not as a mismatch.
    too_few = await flows.register(face_client, me, flows.grace(32, n=1))
    assert too_few.status_code == 422, too_few.text
    code = too_few.json()["code"]
    assert await count(face_client, "register", code) == 1
    assert await count(face_client, "register", "face_mismatch") == 1

    ok = await flows.register(face_client, me, flows.grace(33))
    assert ok.status_code == 201, ok.text
    assert await count(face_client, "register", "matched") == 1
    assert await count(face_client, "login", "matched") == 0
