"""RFC 7009 revocation, RFC 7662 introspection, OIDC userinfo and the token checks of scoped resource routes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.kit.clock import FrozenClock
from tests.factories import bearer
from tests.oauth import flows


async def _introspect(client: AsyncTestClient[Litestar], token: str, **headers: str) -> Any:
    return await client.post("/oauth/introspect", data={"token": token}, headers=headers or flows.basic())


async def _department_tokens(client: AsyncTestClient[Litestar], access: str) -> dict[str, Any]:
    """A code flow for the confidential client (Basic auth at PAR and token endpoints)."""
    form = flows.par_form(client_id=None, redirect_uri="https://dept.example/cb", scope="openid identity.verified")
    pushed = await client.post("/oauth/par", data=form, headers=flows.basic())
    assert pushed.status_code == 201, pushed.text
    decided = await flows.decide(client, access, pushed.json()["request_uri"])
    code = flows.query(decided.json()["redirect_to"])["code"]
    response = await flows.exchange(
        client, code, headers=flows.basic(), client_id=None, redirect_uri="https://dept.example/cb"
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_revoking_an_unknown_token_is_200(oauth: AsyncTestClient[Litestar]) -> None:
    response = await oauth.post("/oauth/revoke", data={"client_id": flows.PUBLIC_ID, "token": "no-such-token"})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"


async def test_revoking_a_refresh_token_ends_its_access_tokens(
    oauth: AsyncTestClient[Litestar], citizen_access: str
) -> None:
    body = await flows.tokens(oauth, citizen_access)
    response = await oauth.post(
        "/oauth/revoke", data={"client_id": flows.PUBLIC_ID, "token": body["refresh_token"], "token_type_hint": "x"}
    )
    assert response.status_code == 200
    assert (await oauth.get("/oauth/userinfo", headers=bearer(body["access_token"]))).status_code == 401


async def test_revoking_an_access_token_ends_the_grant(oauth: AsyncTestClient[Litestar], citizen_access: str) -> None:
    body = await flows.tokens(oauth, citizen_access)
    await oauth.post("/oauth/revoke", data={"client_id": flows.PUBLIC_ID, "token": body["access_token"]})
    form = {"grant_type": "refresh_token", "client_id": flows.PUBLIC_ID, "refresh_token": body["refresh_token"]}
    assert (await oauth.post("/oauth/token", data=form)).status_code == 400


async def test_another_clients_token_is_not_revoked(oauth: AsyncTestClient[Litestar], citizen_access: str) -> None:
    body = await flows.tokens(oauth, citizen_access)
    response = await oauth.post("/oauth/revoke", data={"client_id": flows.OTHER_ID, "token": body["refresh_token"]})
    assert response.status_code == 200
    assert (await oauth.get("/oauth/userinfo", headers=bearer(body["access_token"]))).status_code == 200


async def test_revocation_with_a_wrong_secret_is_401(oauth: AsyncTestClient[Litestar]) -> None:
    response = await oauth.post("/oauth/revoke", data={"token": "x"}, headers=flows.basic(secret="wrong"))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


async def test_introspection_needs_a_confidential_client(oauth: AsyncTestClient[Litestar], citizen_access: str) -> None:
    body = await flows.tokens(oauth, citizen_access)
    anonymous = await oauth.post("/oauth/introspect", data={"token": body["access_token"]})
    assert anonymous.status_code == 401
    public = await oauth.post("/oauth/introspect", data={"token": body["access_token"], "client_id": flows.PUBLIC_ID})
    assert public.status_code == 401
    wrong = await _introspect(oauth, body["access_token"], **flows.basic(secret="nope"))
    assert wrong.status_code == 401


async def test_introspection_of_own_tokens_and_exactly_inactive_otherwise(
    oauth: AsyncTestClient[Litestar], citizen_access: str, clock: FrozenClock
) -> None:
    mine = await _department_tokens(oauth, citizen_access)
    active = (await _introspect(oauth, mine["access_token"])).json()
    assert active["active"] is True
    assert active["client_id"] == flows.CONF_ID
    assert active["scope"] == "openid identity.verified"
    assert (await _introspect(oauth, mine["refresh_token"])).json()["active"] is True

    others = await flows.tokens(oauth, citizen_access)  # the public client's
    for token in (others["access_token"], others["refresh_token"], "garbage", mine["id_token"]):
        response = await _introspect(oauth, token)
        assert response.status_code == 200
        assert response.content == b'{"active":false}'

    clock.advance(timedelta(minutes=11))
    assert (await _introspect(oauth, mine["access_token"])).content == b'{"active":false}'


async def test_client_credentials_tokens_introspect_as_the_client(oauth: AsyncTestClient[Litestar]) -> None:
    token = (await oauth.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=flows.basic())).json()[
        "access_token"
    ]
    body = (await _introspect(oauth, token)).json()
    assert body["active"] is True
    assert body["sub"] == flows.CONF_ID


async def test_userinfo_gives_the_pairwise_sub_and_real_name_level_never_the_id_number(
    oauth: AsyncTestClient[Litestar], citizen_access: str
) -> None:
    mine = await _department_tokens(oauth, citizen_access)
    response = await oauth.get("/oauth/userinfo", headers=bearer(mine["access_token"]))
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    info = response.json()
    assert info["sub"] == jwt.decode(mine["id_token"], options={"verify_signature": False})["sub"]
    assert info["real_name_verified"] is False  # the sandbox citizen has no ID number bound
    assert set(info) == {"sub", "real_name_verified", "real_name_level"}

    plain = await flows.tokens(oauth, citizen_access)  # openid profile: no identity.verified
    assert set((await oauth.get("/oauth/userinfo", headers=bearer(plain["access_token"]))).json()) == {"sub"}


async def test_userinfo_needs_the_openid_scope(oauth: AsyncTestClient[Litestar], citizen_access: str) -> None:
    response = await flows.exchange(oauth, await flows.code(oauth, citizen_access, scope="hpf.read"))
    body = response.json()
    assert "id_token" not in body
    denied = await oauth.get("/oauth/userinfo", headers=bearer(body["access_token"]))
    assert denied.status_code == 403
    assert denied.json()["code"] == "insufficient_scope"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _hs256(claims: dict[str, Any], secret: bytes, kid: str) -> str:
    """Algorithm confusion: HMAC over the token with the public key's PEM as the secret (PyJWT refuses to)."""
    head = _b64(json.dumps({"alg": "HS256", "typ": "at+jwt", "kid": kid}).encode())
    body = _b64(json.dumps(claims).encode())
    mac = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(mac)}"


@pytest.mark.parametrize("attack", ["alg-none", "hs256-with-public-key", "expired", "id-token", "query-token"])
async def test_forged_or_stale_tokens_are_refused_on_scoped_routes(
    oauth: AsyncTestClient[Litestar], citizen_access: str, clock: FrozenClock, attack: str
) -> None:
    body = await flows.tokens(oauth, citizen_access)
    token = body["access_token"]
    assert (await oauth.get("/oauth/userinfo", headers=bearer(token))).status_code == 200
    claims = jwt.decode(token, options={"verify_signature": False})
    kid = jwt.get_unverified_header(token)["kid"]
    if attack == "alg-none":
        token = _b64(b'{"alg":"none","typ":"at+jwt"}') + "." + token.split(".")[1] + "."
    elif attack == "hs256-with-public-key":
        jwk = next(k for k in (await oauth.get("/.well-known/jwks.json")).json()["keys"] if k["kid"] == kid)
        public_key = jwt.PyJWK.from_dict(jwk).key
        pem = public_key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
        token = _hs256(claims, pem, kid)
    elif attack == "expired":
        clock.advance(timedelta(minutes=11))
    elif attack == "id-token":  # typ JWT and audience the client, not the API
        token = body["id_token"]
    else:
        response = await oauth.get("/oauth/userinfo", params={"access_token": token})
        assert response.status_code == 401
        return
    response = await oauth.get("/oauth/userinfo", headers=bearer(token))
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"
