"""Scopes on the API: OAuth access tokens reach only what their scopes and the citizen's consent allow."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any

import asyncpg
import jwt
import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.identity.stepup import StepUpRequired, require_recent_face
from haoban.kit.clock import FrozenClock
from haoban.kit.crypto import FieldCipher
from haoban.oauth.guard import verify_delegated
from haoban.root import build_runtime
from haoban.settings import Settings
from haoban.tokens import jwt as tokens_jwt
from haoban.tokens.service import KeyRing
from tests.exchange import seed
from tests.factories import bearer
from tests.oauth import flows

Client = AsyncTestClient[Litestar]
FUND = "/v1/me/housing-fund"
CLIENT_PURPOSE = {"kind": "service", "ref": f"oauth:{flows.PUBLIC_ID}"}


async def _citizen(oauth: Client, db: asyncpg.Connection, settings: Settings, clock: FrozenClock) -> tuple[str, str]:
    """A citizen with records in every source and a face-verified first-party token."""
    me = seed.person(41)
    await seed.everything(db, me, seed.person(42), seed.person(43))
    created = await oauth.post("/sandbox/citizens", json={"id_number": me})
    assert created.status_code == 201, created.text
    citizen_id = str(created.json()["citizen_id"])
    return citizen_id, await flows.face_token(db, settings, clock, citizen_id)


async def _consent(oauth: Client, access: str, purpose: dict[str, str], items: list[str]) -> None:
    response = await oauth.post(
        "/v1/me/consents",
        json={"purpose": purpose, "items": items, "terms_version": "2026-11"},
        headers=bearer(access),
    )
    assert response.status_code == 201, response.text


async def _delegated(oauth: Client, access: str, scope: str) -> dict[str, Any]:
    response = await flows.exchange(oauth, await flows.code(oauth, access, scope=scope))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
async def citizen(oauth: Client, db: asyncpg.Connection, settings: Settings, clock: FrozenClock) -> tuple[str, str]:
    return await _citizen(oauth, db, settings, clock)


async def test_hpf_read_gets_the_summary_and_the_log_names_the_client(oauth: Client, citizen: tuple[str, str]) -> None:
    citizen_id, access = citizen
    await _consent(oauth, access, CLIENT_PURPOSE, ["housing_fund.*"])
    token = (await _delegated(oauth, access, "openid hpf.read"))["access_token"]

    response = await oauth.get(FUND, headers=bearer(token))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["outcome"] == "ok"
    assert body["status"] == "normal"
    assert body["balance_fen"] == 3_650_000
    assert body["contribution_months"] == 36
    assert body["updated_at"].startswith("2026-11-01T08:00:00")
    assert body["provenance"]["source"] == "housing_fund"
    assert body["provenance"]["trust_level"] == "A"
    # Least data: no internal id, no account number, no bank card.
    assert citizen_id not in response.text
    assert "HPF-001" not in response.text
    assert "6222" not in response.text

    log = (await oauth.get("/v1/me/data-access-log", headers=bearer(access))).json()["entries"]
    assert log[0]["requester"] == {"type": "client", "id": flows.PUBLIC_ID}
    assert log[0]["purpose"] == CLIENT_PURPOSE
    assert log[0]["source"] == "housing_fund"
    assert len(log) == 1  # only the fund source was pulled


async def test_a_token_without_hpf_read_is_403_naming_the_scope(oauth: Client, citizen: tuple[str, str]) -> None:
    _citizen_id, access = citizen
    await _consent(oauth, access, CLIENT_PURPOSE, ["housing_fund.*"])
    token = (await _delegated(oauth, access, "openid identity.verified"))["access_token"]
    response = await oauth.get(FUND, headers=bearer(token))
    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"
    assert "hpf.read" in response.json()["detail_en"]
    assert (await oauth.get("/v1/me/data-access-log", headers=bearer(access))).json()["entries"] == []


async def test_the_citizens_own_consent_does_not_cover_a_client(oauth: Client, citizen: tuple[str, str]) -> None:
    """The OAuth approval is not a data consent: the client needs one for its own purpose."""
    _citizen_id, access = citizen
    await _consent(oauth, access, {"kind": "self_view"}, ["housing_fund.*"])
    token = (await _delegated(oauth, access, "hpf.read"))["access_token"]
    response = await oauth.get(FUND, headers=bearer(token))
    assert response.status_code == 403
    assert response.json()["code"] == "consent_required"


async def test_a_first_party_token_still_works_as_self_view(oauth: Client, citizen: tuple[str, str]) -> None:
    citizen_id, access = citizen
    await _consent(oauth, access, {"kind": "self_view"}, ["housing_fund.*", "identity.*"])
    response = await oauth.get(FUND, headers=bearer(access))
    assert response.status_code == 200, response.text
    assert response.json()["balance_fen"] == 3_650_000
    linked = await oauth.get("/v1/me/linked-data", params={"sources": "identity"}, headers=bearer(access))
    assert linked.status_code == 200, linked.text
    assert (await oauth.get("/v1/me", headers=bearer(access))).status_code == 200
    log = (await oauth.get("/v1/me/data-access-log", headers=bearer(access))).json()["entries"]
    assert {e["requester"]["type"] for e in log} == {"citizen"}
    assert {e["requester"]["id"] for e in log} == {citizen_id}


async def test_first_party_routes_refuse_delegated_tokens(oauth: Client, citizen: tuple[str, str]) -> None:
    """Linked data, consents, the access log and /v1/me carry the internal id and whole records: not for clients."""
    _citizen_id, access = citizen
    token = (await _delegated(oauth, access, "openid identity.verified hpf.read"))["access_token"]
    for path in ("/v1/me", "/v1/me/linked-data", "/v1/me/consents", "/v1/me/data-access-log"):
        response = await oauth.get(path, headers=bearer(token))
        assert response.status_code == 401, path
        assert response.json()["code"] == "invalid_token", path


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "attack", ["alg-none", "hs256-with-public-key", "expired", "wrong-audience", "client-credentials"]
)
async def test_forged_stale_or_foreign_tokens_are_401_on_the_fund_summary(
    oauth: Client,
    citizen: tuple[str, str],
    *,
    db: asyncpg.Connection,
    settings: Settings,
    clock: FrozenClock,
    attack: str,
) -> None:
    _citizen_id, access = citizen
    await _consent(oauth, access, CLIENT_PURPOSE, ["housing_fund.*"])
    token = (await _delegated(oauth, access, "hpf.read"))["access_token"]
    assert (await oauth.get(FUND, headers=bearer(token))).status_code == 200
    claims = jwt.decode(token, options={"verify_signature": False})
    kid = jwt.get_unverified_header(token)["kid"]
    if attack == "alg-none":
        token = _b64(b'{"alg":"none","typ":"at+jwt"}') + "." + token.split(".")[1] + "."
    elif attack == "hs256-with-public-key":
        jwk = next(k for k in (await oauth.get("/.well-known/jwks.json")).json()["keys"] if k["kid"] == kid)
        pem = jwt.PyJWK.from_dict(jwk).key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
        head = _b64(json.dumps({"alg": "HS256", "typ": "at+jwt", "kid": kid}).encode())
        body = _b64(json.dumps(claims).encode())
        token = f"{head}.{body}.{_b64(hmac.new(pem, f'{head}.{body}'.encode(), hashlib.sha256).digest())}"
    elif attack == "expired":
        clock.advance(timedelta(minutes=11))
    elif attack == "wrong-audience":  # properly signed by our own key, for another audience
        keyring = KeyRing(FieldCipher(settings.security.field_keys), clock)
        signing_kid, key = await keyring.signing_key(db)
        token = tokens_jwt.sign({**claims, "aud": "haoban-api:other"}, key, signing_kid)
    else:  # a department's client-credentials token speaks for no citizen
        issued = await oauth.post(
            "/oauth/token", data={"grant_type": "client_credentials", "scope": "hpf.read"}, headers=flows.basic()
        )
        token = issued.json()["access_token"]
    response = await oauth.get(FUND, headers=bearer(token))
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


async def test_an_oauth_token_never_satisfies_the_face_step_up(
    oauth: Client,
    citizen: tuple[str, str],
    *,
    db: asyncpg.Connection,
    settings: Settings,
    db_url: str,
    clock: FrozenClock,
) -> None:
    """The approval itself was face-verified a moment ago; the client's token still is not the citizen's face."""
    _citizen_id, access = citizen
    token = (await _delegated(oauth, access, "openid hpf.read applications.read"))["access_token"]
    runtime = build_runtime(settings, database_url=db_url, clock=clock)
    principal, _claims = await verify_delegated(runtime, token, db)  # what the scoped guard does
    assert principal.auth_time >= clock.now() - timedelta(seconds=5)
    with pytest.raises(StepUpRequired):
        require_recent_face(principal, clock.now())
