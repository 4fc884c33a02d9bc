"""Citizen approval: face step-up, the redirect with code/state/iss, deny, single use, remembered approvals."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.kit.clock import FrozenClock
from tests.conftest import TEST_ISSUER
from tests.factories import bearer, citizen_with_tokens
from tests.oauth import flows


async def test_approval_redirects_with_code_state_and_iss(
    oauth: AsyncTestClient[Litestar], citizen_access: str
) -> None:
    uri = await flows.request_uri(oauth)
    response = await flows.decide(oauth, citizen_access, uri)
    assert response.status_code == 200, response.text
    target = response.json()["redirect_to"]
    assert target.startswith(flows.REDIRECT + "?")
    params = flows.query(target)
    assert params["state"] == "st-123"
    assert params["iss"] == TEST_ISSUER
    assert params["code"].startswith("hbc_")


async def test_deny_redirects_with_access_denied_and_no_code(
    oauth: AsyncTestClient[Litestar], citizen_access: str
) -> None:
    uri = await flows.request_uri(oauth)
    response = await flows.decide(oauth, citizen_access, uri, "deny")
    assert response.status_code == 200
    params = flows.query(response.json()["redirect_to"])
    assert params == {"error": "access_denied", "state": "st-123", "iss": TEST_ISSUER}


async def test_a_request_uri_is_decided_once(oauth: AsyncTestClient[Litestar], citizen_access: str) -> None:
    uri = await flows.request_uri(oauth)
    assert (await flows.decide(oauth, citizen_access, uri)).status_code == 200
    again = await flows.decide(oauth, citizen_access, uri)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_request"


async def test_an_expired_request_uri_is_refused(
    oauth: AsyncTestClient[Litestar], citizen_access: str, clock: FrozenClock
) -> None:
    uri = await flows.request_uri(oauth)
    clock.advance(timedelta(seconds=61))
    response = await flows.decide(oauth, citizen_access, uri)
    assert response.status_code == 400


async def test_approval_needs_a_face_verification(oauth: AsyncTestClient[Litestar]) -> None:
    _citizen, pair = await citizen_with_tokens(oauth)  # sandbox tokens: amr ["sandbox"]
    uri = await flows.request_uri(oauth)
    response = await flows.decide(oauth, pair["access_token"], uri)
    assert response.status_code == 401
    assert response.json()["code"] == "step_up_required"


async def test_approval_needs_a_recent_face_verification(
    oauth: AsyncTestClient[Litestar], citizen_access: str, clock: FrozenClock
) -> None:
    clock.advance(timedelta(minutes=5, seconds=1))
    uri = await flows.request_uri(oauth)
    response = await flows.decide(oauth, citizen_access, uri)
    assert response.status_code == 401
    assert response.json()["code"] == "step_up_required"


async def test_approval_needs_a_token(oauth: AsyncTestClient[Litestar]) -> None:
    uri = await flows.request_uri(oauth)
    response = await oauth.post("/v1/oauth/authorizations", json={"request_uri": uri, "decision": "approve"})
    assert response.status_code == 401


async def test_approvals_are_listed_and_withdrawing_revokes_the_clients_tokens(
    oauth: AsyncTestClient[Litestar], citizen_access: str, db: asyncpg.Connection
) -> None:
    body = await flows.tokens(oauth, citizen_access)
    listed = (await oauth.get("/v1/me/authorizations", headers=bearer(citizen_access))).json()["items"]
    assert [(a["client_id"], a["scopes"]) for a in listed] == [(flows.PUBLIC_ID, ["openid", "profile"])]
    assert (await oauth.get("/oauth/userinfo", headers=bearer(body["access_token"]))).status_code == 200

    gone = await oauth.delete(f"/v1/me/authorizations/{flows.PUBLIC_ID}", headers=bearer(citizen_access))
    assert gone.status_code == 204
    assert (await oauth.get("/oauth/userinfo", headers=bearer(body["access_token"]))).status_code == 401
    refreshed = await oauth.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "client_id": flows.PUBLIC_ID, "refresh_token": body["refresh_token"]},
    )
    assert refreshed.status_code == 400
    assert (await oauth.get("/v1/me/authorizations", headers=bearer(citizen_access))).json()["items"] == []
    # The citizen's own app session is untouched.
    assert (await oauth.get("/v1/me", headers=bearer(citizen_access))).status_code == 200
    assert await db.fetchval("SELECT count(*) FROM audit_events WHERE action = 'oauth.authorization.withdrawn'") == 1


async def test_withdrawing_cannot_touch_first_party_sessions(
    oauth: AsyncTestClient[Litestar], citizen_access: str
) -> None:
    response = await oauth.delete("/v1/me/authorizations/haoban-app", headers=bearer(citizen_access))
    assert response.status_code == 404
    assert (await oauth.get("/v1/me", headers=bearer(citizen_access))).status_code == 200
