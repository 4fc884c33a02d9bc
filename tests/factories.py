"""Small factories shared by tests."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient


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
