"""Helpers for the face-flow tests: an app with the shared engine, identities, challenges."""

from __future__ import annotations

import base64
from typing import Any

import httpx
from httpx import Response

from tests.identity import frames
from tests.sandbox import bodies

APP = "haoban-app"
CLIENT = {"X-Client-ID": APP}
TERMS = {"biometric": True, "terms_version": "2026-11"}


def b64(frame_list: list[bytes]) -> list[str]:
    return [base64.b64encode(f).decode() for f in frame_list]


async def add_client(client: httpx.AsyncClient, **over: Any) -> None:
    body = {"client_id": APP, "name": "好办 App", "attestation": "optional", **over}
    response = await client.post("/sandbox/app-clients", json=body)
    assert response.status_code == 204, response.text


async def add_identity(
    client: httpx.AsyncClient, id_number: str, *, photo: str = "grace_hopper.jpg", **over: Any
) -> None:
    body = bodies.identity(id_number, name="格蕾丝", photo=bodies.b64(frames.photo(photo)), **over)
    response = await client.post("/sandbox/identities", json=body)
    assert response.status_code in (200, 201), response.text


async def challenge(
    client: httpx.AsyncClient, id_number: str, purpose: str, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    response = await client.post(
        "/v1/auth/face/challenges", json={"id_number": id_number, "purpose": purpose}, headers=headers or CLIENT
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def register(
    client: httpx.AsyncClient,
    id_number: str,
    frame_list: list[bytes],
    *,
    name: str = "格蕾丝",
    **over: Any,
) -> Response:
    ch = await challenge(client, id_number, "register")
    body = {
        "challenge_id": ch["challenge_id"],
        "id_number": id_number,
        "name": name,
        "frames": b64(frame_list),
        "consent": TERMS,
        **over,
    }
    return await client.post("/v1/auth/register", json=body, headers=CLIENT)


async def login(client: httpx.AsyncClient, id_number: str, frame_list: list[bytes], **over: Any) -> Response:
    ch = await challenge(client, id_number, "login")
    body = {"challenge_id": ch["challenge_id"], "id_number": id_number, "frames": b64(frame_list), **over}
    return await client.post("/v1/auth/face-login", json=body, headers=CLIENT)


def grace(seed: int, n: int = 3) -> list[bytes]:
    return frames.make_frames(frames.photo("grace_hopper.jpg"), n, seed=seed)


def astronaut(seed: int, n: int = 3) -> list[bytes]:
    return frames.make_frames(frames.photo("astronaut.jpg"), n, seed=seed)


def comparable(response: Response) -> tuple[int, dict[str, Any]]:
    """Status and body without what differs per request."""
    body = {k: v for k, v in response.json().items() if k not in {"request_id", "instance"}}
    return response.status_code, body
