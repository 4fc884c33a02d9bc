"""One process pool for the whole identity suite: starting workers and loading dlib takes seconds."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from haoban.identity.face.engine import ProcessPoolFaceEngine
from haoban.identity.face.features import Encoding
from haoban.identity.face.settings import FaceSettings
from tests.identity import frames

# Two workers, and room for two 5-frame attempts in flight (the FaceBusy test fills it).
SETTINGS = FaceSettings(workers=2, queue_per_worker=1)


@pytest.fixture(scope="session")
def engine() -> Iterator[ProcessPoolFaceEngine]:
    face_engine = ProcessPoolFaceEngine(SETTINGS)
    asyncio.run(face_engine.warm_up())
    yield face_engine
    asyncio.run(face_engine.close())


@pytest.fixture(scope="session")
def grace_reference(engine: ProcessPoolFaceEngine) -> Encoding:
    return asyncio.run(engine.reference(frames.photo("grace_hopper.jpg")))


@pytest.fixture(scope="session")
def grace_frames() -> list[bytes]:
    return frames.make_frames(frames.photo("grace_hopper.jpg"), 5, seed=1)


@pytest.fixture(scope="session")
def astronaut_frames() -> list[bytes]:
    return frames.make_frames(frames.photo("astronaut.jpg"), 5, seed=1)
