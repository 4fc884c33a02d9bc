"""Small helpers: mint a sandbox code, exchange it."""

from __future__ import annotations

from typing import Any

import httpx


async def mint(client: httpx.AsyncClient, open_id: str, platform: str = "wechat") -> str:
    response = await client.post(f"/sandbox/miniprogram/{platform}/codes", json={"open_id": open_id})
    assert response.status_code == 201, response.text
    code: str = response.json()["code"]
    return code


async def exchange(client: httpx.AsyncClient, code: str, platform: str = "wechat") -> httpx.Response:
    return await client.post(f"/v1/auth/miniprogram/{platform}", json={"code": code})


async def ticket_for(client: httpx.AsyncClient, open_id: str, platform: str = "wechat") -> dict[str, Any]:
    response = await exchange(client, await mint(client, open_id, platform), platform)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["outcome"] == "binding_required", body
    return body
