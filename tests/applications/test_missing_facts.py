"""A source that cannot be asked never leads to a refusal or a payout: the application goes to a person."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.app import create_app
from haoban.kit.clock import FrozenClock
from tests.applications.people import apply, person
from tests.conftest import make_settings


@pytest.fixture
async def estate_down(
    db_url: str, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """The real-estate registry switched to its HTTP API on a port where nothing listens."""
    monkeypatch.setenv("HAOBAN_OUTBOX_WORKER", "false")
    settings = make_settings(db_url, HAOBAN_SOURCE_ESTATE_URL="http://127.0.0.1:9", HAOBAN_SOURCE_TIMEOUT_MS="300")
    async with AsyncTestClient(app=create_app(settings, database_url=db_url, clock=clock)) as client:
        yield client


async def test_unavailable_estate_registry_sends_a_withdrawal_to_review_not_to_payment(
    estate_down: AsyncTestClient[Litestar], db: asyncpg.Connection, db_url: str, clock: FrozenClock
) -> None:
    settings = make_settings(db_url)
    renter = await person(estate_down, db, settings, clock, seq=121)
    response = await apply(estate_down, renter, "hpf.withdraw.rent")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["decision"]["outcome"] == "review"
    assert body["status"] == "pending_review"
    assert "payout" not in body
    unknown = [s for s in body["decision"]["trace"] if s["passed"] is None]
    assert [s["rule_id"] for s in unknown] == ["no_property_in_city"]
    assert await db.fetchval("SELECT count(*) FROM payouts") == 0
    stored = await db.fetchval("SELECT facts->'estate.properties'->>'missing' FROM decisions")
    assert stored.startswith("unavailable")
