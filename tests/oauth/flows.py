"""Helpers for the OAuth tests: registered clients, a face-verified citizen, PAR → approve → code → tokens."""

from __future__ import annotations

import base64
import hashlib
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
from httpx import Response

from haoban.audit.schemas import Actor
from haoban.identity.stepup import FACE_ACR
from haoban.kit.clock import Clock
from haoban.kit.crypto import FieldCipher
from haoban.oauth.clients import create_client
from haoban.settings import Settings
from haoban.tokens.schemas import SessionGrant
from haoban.tokens.service import KeyRing, TokenService
from tests.factories import bearer

Client = httpx.AsyncClient  # the in-process test client or a live server's

PUBLIC_ID = "demo-miniprogram"
REDIRECT = "https://miniprogram.example/callback"
OTHER_ID = "other-miniprogram"
OTHER_REDIRECT = "https://other.example/cb"
CONF_ID = "demo-department"
SECRET = "demo-department-secret"
# RFC 7636 appendix B
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
ALL_SCOPES = ["openid", "profile", "identity.verified", "hpf.read", "applications.read", "applications.write"]


async def register_clients(db: asyncpg.Connection, hmac_key: bytes, now: Any) -> None:
    actor = Actor(type="system", id="tests")
    async with db.transaction():
        for client_id, uri in ((PUBLIC_ID, REDIRECT), (OTHER_ID, OTHER_REDIRECT)):
            await create_client(
                db,
                hmac_key=hmac_key,
                client_id=client_id,
                client_type="public",
                display_name=f"{client_id} 小程序",
                purpose="Show the citizen's housing fund balance",
                redirect_uris=[uri],
                scopes=["openid", "profile", "identity.verified", "hpf.read", "applications.read"],
                secret=None,
                now=now,
                actor=actor,
            )
        await create_client(
            db,
            hmac_key=hmac_key,
            client_id=CONF_ID,
            client_type="confidential",
            display_name="住房公积金中心",
            purpose="Department system",
            redirect_uris=["https://dept.example/cb"],
            scopes=ALL_SCOPES,
            secret=SECRET,
            now=now,
            actor=actor,
        )


def basic(client_id: str = CONF_ID, secret: str = SECRET) -> dict[str, str]:
    raw = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def challenge_of(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


async def citizen(client: Client) -> str:
    created = await client.post("/sandbox/citizens", json={})
    assert created.status_code == 201, created.text
    return str(created.json()["citizen_id"])


async def face_token(
    db: asyncpg.Connection, settings: Settings, clock: Clock, citizen_id: str, *, amr: tuple[str, ...] = ("face",)
) -> str:
    """A first-party session as face login issues it (the face flow itself is tested in tests/identity)."""
    security = settings.security
    service = TokenService(settings=security, keyring=KeyRing(FieldCipher(security.field_keys), clock), clock=clock)
    grant = SessionGrant(
        citizen_id=uuid.UUID(citizen_id),
        client_id="haoban-app",
        scope=("openid", "profile"),
        acr=FACE_ACR,
        amr=amr,
        auth_time=clock.now(),
    )
    async with db.transaction():
        pair = await service.issue(db, grant, actor=Actor(type="system", id="tests"))
    return pair.access_token


def par_form(**over: str | None) -> dict[str, str]:
    form: dict[str, str | None] = {
        "client_id": PUBLIC_ID,
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "scope": "openid profile",
        "state": "st-123",
        "nonce": "n-456",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
        **over,
    }
    return {k: v for k, v in form.items() if v is not None}


async def push(client: Client, **over: str | None) -> Response:
    return await client.post("/oauth/par", data=par_form(**over))


async def request_uri(client: Client, **over: str | None) -> str:
    response = await push(client, **over)
    assert response.status_code == 201, response.text
    return str(response.json()["request_uri"])


async def decide(client: Client, access: str, uri: str, decision: str = "approve") -> Response:
    return await client.post(
        "/v1/oauth/authorizations", json={"request_uri": uri, "decision": decision}, headers=bearer(access)
    )


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def code(client: Client, access: str, **over: str | None) -> str:
    uri = await request_uri(client, **over)
    response = await decide(client, access, uri)
    assert response.status_code == 200, response.text
    return query(response.json()["redirect_to"])["code"]


async def exchange(
    client: Client, code_value: str, headers: dict[str, str] | None = None, **over: str | None
) -> Response:
    form: dict[str, str | None] = {
        "grant_type": "authorization_code",
        "client_id": PUBLIC_ID,
        "code": code_value,
        "redirect_uri": REDIRECT,
        "code_verifier": VERIFIER,
        **over,
    }
    data = {k: v for k, v in form.items() if v is not None}
    return await client.post("/oauth/token", data=data, headers=headers or {})


async def tokens(client: Client, access: str) -> dict[str, Any]:
    response = await exchange(client, await code(client, access))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
