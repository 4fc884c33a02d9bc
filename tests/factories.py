"""Small factories shared by tests."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.db.batch import Batch
from haoban.rules import repository as decisions
from haoban.rules.schemas import Decision, Fact


async def citizen_with_tokens(
    client: AsyncTestClient[Litestar], *, scope: list[str] | None = None
) -> tuple[str, dict[str, Any]]:
    """A new test citizen and a token pair, through the sandbox routes."""
    created = await client.post("/sandbox/citizens", json={})
    assert created.status_code == 201, created.text
    citizen_id = created.json()["citizen_id"]
    minted = await client.post(f"/sandbox/citizens/{citizen_id}/tokens", json={"scope": scope or ["openid"]})
    assert minted.status_code == 201, minted.text
    return citizen_id, minted.json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def stored_decision(
    db: asyncpg.Connection,
    *,
    decision: Decision,
    facts: Mapping[str, Fact],
    service_code: str,
    application_id: UUID | None,
    at: datetime,
) -> UUID:
    """A decision written on its own, the way the deciding statement writes it; returns its id."""
    b = Batch()
    decision_id = uuid.uuid4()
    decisions.add_decision(
        b,
        "test",
        decision_id=decision_id,
        decision=decision,
        facts=facts,
        service_code=service_code,
        application_id=application_id,
        at=at,
        guard=None,
    )
    await b.fetchrow(db)
    return decision_id
