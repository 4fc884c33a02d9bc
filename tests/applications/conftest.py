"""Applications on the real app and sandbox bank; the in-process outbox worker is off so tests drive it."""

from __future__ import annotations

import pytest
from litestar import Litestar

from haoban.app import create_app
from haoban.kit.clock import FrozenClock
from haoban.settings import Settings
from tests.conftest import make_settings


@pytest.fixture
def settings(db_url: str) -> Settings:
    """No in-process worker (tests drain the outbox themselves), and retries due at once."""
    return make_settings(
        db_url, HAOBAN_OUTBOX_WORKER="false", HAOBAN_OUTBOX_BACKOFF_BASE_MS="1", HAOBAN_OUTBOX_BACKOFF_MAX_S="1"
    )


@pytest.fixture
def app(settings: Settings, db_url: str, clock: FrozenClock) -> Litestar:
    return create_app(settings, database_url=db_url, clock=clock)
