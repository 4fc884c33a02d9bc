"""Small helpers: mint a sandbox code, exchange it with a ticket challenge, present a ticket with its verifier."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import httpx

# 43 characters of [A-Za-z0-9_-], as a mini-program would draw from 32 random bytes (RFC 7636 appendix B).
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
OTHER_VERIFIER = "Z" * 43


def challenge_of(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


async def mint(client: httpx.AsyncClient, open_id: str, platform: str = "wechat") -> str:
    response = await client.post(f"/sandbox/miniprogram/{platform}/codes", json={"open_id": open_id})
    assert response.status_code == 201, response.text
    code: str = response.json()["code"]
    return code


async def exchange(
    client: httpx.AsyncClient, code: str, platform: str = "wechat", verifier: str = VERIFIER
) -> httpx.Response:
    body = {"code": code, "ticket_challenge": challenge_of(verifier)}
    return await client.post(f"/v1/auth/miniprogram/{platform}", json=body)


async def ticket_for(
    client: httpx.AsyncClient, open_id: str, platform: str = "wechat", verifier: str = VERIFIER
) -> dict[str, Any]:
    """The unbound answer, plus `proof`: what face registration / login takes (ticket + verifier)."""
    response = await exchange(client, await mint(client, open_id, platform), platform, verifier)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["outcome"] == "binding_required", body
    return {**body, "proof": body["binding_ticket"] + verifier}
