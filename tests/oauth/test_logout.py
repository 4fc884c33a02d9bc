"""OpenID Connect RP-initiated logout: the end-session endpoint ends the grant named by the ID token."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import asyncpg
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.kit.clock import FrozenClock
from tests.factories import bearer
from tests.oauth import flows

Client = AsyncTestClient[Litestar]


async def _refresh(client: Client, refresh_token: str) -> int:
    response = await client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "client_id": flows.PUBLIC_ID, "refresh_token": refresh_token},
    )
    return response.status_code


async def test_metadata_names_the_end_session_endpoint(oauth: Client) -> None:
    for path in ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"):
        meta = (await oauth.get(path)).json()
        assert meta["end_session_endpoint"] == meta["issuer"] + "/oauth/logout"
        assert "sid" in meta["claims_supported"]


async def test_logout_revokes_the_grants_refresh_and_access_tokens(oauth: Client, citizen_access: str) -> None:
    body = await flows.tokens(oauth, citizen_access)
    claims = jwt.decode(body["id_token"], options={"verify_signature": False})
    assert claims["sid"], "the ID token names its grant"
    response = await oauth.get("/oauth/logout", params={"id_token_hint": body["id_token"]})
    assert response.status_code == 200, response.text
    assert response.json() == {"ended": True}
    assert response.headers["cache-control"] == "no-store"
    assert await _refresh(oauth, body["refresh_token"]) == 400
    assert (await oauth.get("/oauth/userinfo", headers=bearer(body["access_token"]))).status_code == 401
    again = await oauth.get("/oauth/logout", params={"id_token_hint": body["id_token"]})
    assert again.json() == {"ended": False}


async def test_logout_ends_only_that_grant(oauth: Client, citizen_access: str) -> None:
    first = await flows.tokens(oauth, citizen_access)
    second = await flows.tokens(oauth, citizen_access)
    response = await oauth.post("/oauth/logout", data={"id_token_hint": first["id_token"]})
    assert response.status_code == 200, response.text
    assert await _refresh(oauth, first["refresh_token"]) == 400
    assert await _refresh(oauth, second["refresh_token"]) == 200


async def test_a_registered_redirect_uri_is_followed_with_state(oauth: Client, citizen_access: str) -> None:
    body = await flows.tokens(oauth, citizen_access)
    response = await oauth.get(
        "/oauth/logout",
        params={
            "id_token_hint": body["id_token"],
            "client_id": flows.PUBLIC_ID,
            "post_logout_redirect_uri": flows.REDIRECT,
            "state": "s t&1",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == flows.REDIRECT + "?state=s+t%261"
    assert await _refresh(oauth, body["refresh_token"]) == 400


async def test_an_expired_hint_still_ends_the_grant(oauth: Client, citizen_access: str, clock: FrozenClock) -> None:
    body = await flows.tokens(oauth, citizen_access)
    clock.advance(timedelta(hours=2))
    response = await oauth.get("/oauth/logout", params={"id_token_hint": body["id_token"]})
    assert response.json() == {"ended": True}


async def _assert_refused(oauth: Client, response: Any, code: str, access_token: str) -> None:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code
    assert "location" not in response.headers
    userinfo = await oauth.get("/oauth/userinfo", headers=bearer(access_token))
    assert userinfo.status_code == 200, "nothing was revoked"


@pytest.mark.parametrize(
    "uri", ["https://evil.example/cb", flows.OTHER_REDIRECT, flows.REDIRECT + "/", flows.REDIRECT + "?x=1"]
)
async def test_an_unregistered_redirect_uri_is_refused_and_nothing_ends(
    oauth: Client, citizen_access: str, uri: str
) -> None:
    body = await flows.tokens(oauth, citizen_access)
    response = await oauth.get(
        "/oauth/logout",
        params={"id_token_hint": body["id_token"], "post_logout_redirect_uri": uri},
        follow_redirects=False,
    )
    await _assert_refused(oauth, response, "invalid_redirect_uri", body["access_token"])


async def test_another_clients_id_is_refused(oauth: Client, citizen_access: str) -> None:
    body = await flows.tokens(oauth, citizen_access)
    response = await oauth.get("/oauth/logout", params={"id_token_hint": body["id_token"], "client_id": flows.OTHER_ID})
    await _assert_refused(oauth, response, "invalid_request", body["access_token"])


async def test_a_forged_or_missing_hint_is_refused(oauth: Client, citizen_access: str) -> None:
    body = await flows.tokens(oauth, citizen_access)
    claims = jwt.decode(body["id_token"], options={"verify_signature": False})
    header = jwt.get_unverified_header(body["id_token"])
    forged = jwt.encode(claims, ec.generate_private_key(ec.SECP256R1()), algorithm="ES256", headers=header)
    for hint in (forged, "not-a-jwt", body["access_token"]):
        response = await oauth.get("/oauth/logout", params={"id_token_hint": hint})
        await _assert_refused(oauth, response, "invalid_id_token_hint", body["access_token"])
    missing = await oauth.get("/oauth/logout", params={"client_id": flows.PUBLIC_ID})
    await _assert_refused(oauth, missing, "invalid_request", body["access_token"])
    zh = await oauth.get("/oauth/logout", params={"id_token_hint": "x"}, headers={"Accept-Language": "zh-CN"})
    assert zh.json()["title"] == "登录凭证无效，无法退出"


async def test_logout_is_audited(oauth: Client, citizen_access: str, db: asyncpg.Connection) -> None:
    body = await flows.tokens(oauth, citizen_access)
    await oauth.get("/oauth/logout", params={"id_token_hint": body["id_token"]})
    reasons = await db.fetch(
        "SELECT details->>'reason' AS reason FROM audit_events WHERE action = 'oauth.grant.revoked'"
    )
    assert [r["reason"] for r in reasons] == ["logged_out"]
