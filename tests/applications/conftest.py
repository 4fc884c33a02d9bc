"""Applications on the real app and sandbox bank; the in-process outbox worker is off so tests drive it."""

from __future__ import annotations

import pytest
from litestar import Litestar

from haoban.app import create_app
from haoban.kit.clock import FrozenClock
from haoban.settings import Settings


@pytest.fixture
def app(settings: Settings, db_url: str, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch) -> Litestar:
    monkeypatch.setenv("HAOBAN_OUTBOX_WORKER", "false")
    monkeypatch.setenv("HAOBAN_OUTBOX_BACKOFF_BASE_MS", "1")
    monkeypatch.setenv("HAOBAN_OUTBOX_BACKOFF_MAX_S", "1")
    return create_app(settings, database_url=db_url, clock=clock)
