"""A refused face attempt says the catalogue sentence for its code, in the asked language; the engine's
technical text never reaches the person."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.app import create_app
from haoban.identity.face.engine import ProcessPoolFaceEngine
from haoban.kit.clock import FrozenClock
from haoban.kit.messages import details
from tests.conftest import make_settings
from tests.identity import flows
from tests.identity.flows import CLIENT
from tests.sandbox.bodies import person

Client = AsyncTestClient[Litestar]


@pytest.fixture
async def face_client(db_url: str, clock: FrozenClock, engine: ProcessPoolFaceEngine) -> AsyncIterator[Client]:
    app = create_app(make_settings(db_url), database_url=db_url, clock=clock, face_engine=engine)
    async with AsyncTestClient(app=app) as client:
        await flows.add_client(client)
        yield client


async def attempt(client: Client, id_number: str, frames: list[str], language: str) -> dict[str, object]:
    ch = await flows.challenge(client, id_number, "register")
    body = {
        "challenge_id": ch["challenge_id"],
        "id_number": id_number,
        "name": "格蕾丝",
        "frames": frames,
        "consent": flows.TERMS,
    }
    response = await client.post("/v1/auth/register", json=body, headers={**CLIENT, "Accept-Language": language})
    assert response.status_code in (413, 422), response.text
    problem: dict[str, object] = response.json()
    return problem


@pytest.mark.parametrize("language", ["zh-CN", "en"])
async def test_frame_refusals_read_the_catalogue(face_client: Client, language: str) -> None:
    me = person(341)
    await flows.add_identity(face_client, me)
    junk = base64.b64encode(b"this is not a picture of anyone").decode()
    cases = {
        "frame_count": flows.b64(flows.grace(41, n=1)),
        "frame_undecodable": [junk, *flows.b64(flows.grace(42, n=2))],
    }
    for code, frames in cases.items():
        problem = await attempt(face_client, me, frames, language)
        assert problem["code"] == code
        zh, en = details(code)
        assert problem["detail"] == (en if language == "en" else zh)
        assert (problem["detail_zh"], problem["detail_en"]) == (zh, en)
        for technical in ("got", "bytes", "frames[", "cannot identify", "PIL"):
            assert technical not in str(problem["detail_en"])
