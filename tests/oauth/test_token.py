"""The token endpoint: PKCE (RFC 7636 vector), code single use, refresh rotation, client binding, ID tokens."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import jwt
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.kit.clock import FrozenClock
from haoban.oauth.token import s256
from tests.conftest import TEST_ISSUER
from tests.factories import bearer
from tests.oauth import flows


async def citizen_id_of(client: AsyncTestClient[Litestar], first_party_access: str) -> str:
    return str((await client.get("/v1/me", headers=bearer(first_party_access))).json()["citizen_id"])


def test_s256_matches_the_rfc_7636_appendix_b_vector() -> None:
    assert s256(flows.VERIFIER) == flows.CHALLENGE


async def test_code_exchange_issues_tokens_and_an_id_token(
    oauth: AsyncTestClient[Litestar], citizen_access: str
) -> None:
    response = await flows.exchange(oauth, await flows.code(oauth, citizen_access))
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "openid profile"
    assert body["refresh_token"].startswith("hbo_")
    access_header = jwt.get_unverified_header(body["access_token"])
    assert access_header["typ"] == "at+jwt"
    access = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert access["aud"] == "haoban-api:delegated"
    assert access["client_id"] == flows.PUBLIC_ID
    assert access["scope"] == "openid profile"
    id_header = jwt.get_unverified_header(body["id_token"])
    assert id_header["alg"] == "ES256"
    assert id_header["typ"] == "JWT"
    claims = jwt.decode(body["id_token"], options={"verify_signature": False})
    assert claims["iss"] == TEST_ISSUER
    assert claims["aud"] == flows.PUBLIC_ID
    assert claims["nonce"] == "n-456"
    assert claims["acr"] == "urn:haoban:loa:face"
    assert claims["amr"] == ["face"]
    assert isinstance(claims["auth_time"], int)
    assert claims["sub"] == access["sub"]  # the pairwise subject, never the internal citizen id
    assert claims["sub"] != await citizen_id_of(oauth, citizen_access)


async def test_id_token_verifies_against_the_jwks(oauth: AsyncTestClient[Litestar], citizen_access: str) -> None:
    body = await flows.tokens(oauth, citizen_access)
    keys = (await oauth.get("/.well-known/jwks.json")).json()["keys"]
    kid = jwt.get_unverified_header(body["id_token"])["kid"]
    key = jwt.PyJWK.from_dict(next(k for k in keys if k["kid"] == kid))
    claims = jwt.decode(body["id_token"], key.key, algorithms=["ES256"], audience=flows.PUBLIC_ID, issuer=TEST_ISSUER)
    assert claims["nonce"] == "n-456"


async def test_pairwise_sub_differs_per_client_and_is_stable(
    oauth: AsyncTestClient[Litestar], citizen_access: str
) -> None:
    first = await flows.tokens(oauth, citizen_access)
    second = await flows.tokens(oauth, citizen_access)
    code = await flows.code(oauth, citizen_access, client_id=flows.OTHER_ID, redirect_uri=flows.OTHER_REDIRECT)
    other = await flows.exchange(oauth, code, client_id=flows.OTHER_ID, redirect_uri=flows.OTHER_REDIRECT)
    assert other.status_code == 200, other.text

    def sub(body: dict[str, str]) -> str:
        return str(jwt.decode(body["id_token"], options={"verify_signature": False})["sub"])

    assert sub(first) == sub(second)
    assert sub(first) != sub(other.json())


async def test_no_nonce_means_no_nonce_claim(oauth: AsyncTestClient[Litestar], citizen_access: str) -> None:
    response = await flows.exchange(oauth, await flows.code(oauth, citizen_access, nonce=None))
    claims = jwt.decode(response.json()["id_token"], options={"verify_signature": False})
    assert "nonce" not in claims


@pytest.mark.parametrize(
    "verifier",
    [
        flows.VERIFIER[:-1] + "l",  # one character off
        flows.VERIFIER[:42],  # 42 characters
        flows.VERIFIER * 3,  # 129 characters
        None,  # a challenge was sent, so a verifier is required
    ],
    ids=["wrong", "too-short", "too-long", "missing"],
)
async def test_a_wrong_or_missing_verifier_is_refused(
    oauth: AsyncTestClient[Litestar], citizen_access: str, verifier: str | None
) -> None:
    if verifier == flows.VERIFIER * 3:
        verifier = verifier[:129]
    response = await flows.exchange(oauth, await flows.code(oauth, citizen_access), code_verifier=verifier)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert response.headers["cache-control"] == "no-store"


async def test_a_second_redemption_fails_and_revokes_the_first_tokens(
    oauth: AsyncTestClient[Litestar], citizen_access: str
) -> None:
    code = await flows.code(oauth, citizen_access)
    first = await flows.exchange(oauth, code)
    assert first.status_code == 200
    tokens = first.json()
    assert (await oauth.get("/oauth/userinfo", headers=bearer(tokens["access_token"]))).status_code == 200

    second = await flows.exchange(oauth, code)
    assert second.status_code == 400
    assert second.json()["error"] == "invalid_grant"
    assert (await oauth.get("/oauth/userinfo", headers=bearer(tokens["access_token"]))).status_code == 401
    refresh = await oauth.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "client_id": flows.PUBLIC_ID, "refresh_token": tokens["refresh_token"]},
    )
    assert refresh.status_code == 400


async def test_an_expired_code_is_refused(
    oauth: AsyncTestClient[Litestar], citizen_access: str, clock: FrozenClock
) -> None:
    code = await flows.code(oauth, citizen_access)
    clock.advance(timedelta(seconds=61))
    response = await flows.exchange(oauth, code)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


async def test_another_clients_code_is_refused(oauth: AsyncTestClient[Litestar], citizen_access: str) -> None:
    code = await flows.code(oauth, citizen_access)
    stolen = await flows.exchange(oauth, code, client_id=flows.OTHER_ID)
    assert stolen.status_code == 400
    assert stolen.json()["error"] == "invalid_grant"
    assert (await flows.exchange(oauth, code)).status_code == 200  # the rightful client still can


async def test_the_redirect_uri_must_match_the_request(oauth: AsyncTestClient[Litestar], citizen_access: str) -> None:
    code = await flows.code(oauth, citizen_access)
    for uri in (None, flows.REDIRECT + "/"):
        response = await flows.exchange(oauth, code, redirect_uri=uri)
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_grant"


async def test_concurrent_redemptions_of_one_code_have_one_winner(
    oauth: AsyncTestClient[Litestar], citizen_access: str
) -> None:
    code = await flows.code(oauth, citizen_access)
    results = await asyncio.gather(*(flows.exchange(oauth, code) for _ in range(5)))
    assert sorted(r.status_code for r in results) == [200, 400, 400, 400, 400]


@pytest.mark.parametrize(
    ("grant", "error"),
    [("password", "unsupported_grant_type"), ("implicit", "unsupported_grant_type"), ("", "invalid_request")],
)
async def test_legacy_and_missing_grant_types_are_refused(
    oauth: AsyncTestClient[Litestar], grant: str, error: str
) -> None:
    form = {"grant_type": grant, "client_id": flows.PUBLIC_ID, "username": "a", "password": "b"}
    response = await oauth.post("/oauth/token", data=form)
    assert response.status_code == 400
    assert response.json()["error"] == error


async def test_refresh_rotates_and_reuse_revokes_the_family(
    oauth: AsyncTestClient[Litestar], citizen_access: str
) -> None:
    r1 = (await flows.tokens(oauth, citizen_access))["refresh_token"]

    async def refresh(token: str, client_id: str = flows.PUBLIC_ID) -> tuple[int, dict[str, str]]:
        form = {"grant_type": "refresh_token", "client_id": client_id, "refresh_token": token}
        response = await oauth.post("/oauth/token", data=form)
        return response.status_code, response.json()

    status, second = await refresh(r1)
    assert status == 200
    assert second["refresh_token"] != r1
    status, third = await refresh(second["refresh_token"])
    assert status == 200
    assert (await oauth.get("/oauth/userinfo", headers=bearer(third["access_token"]))).status_code == 200

    status, body = await refresh(r1)  # replay of a used token
    assert (status, body["error"]) == (400, "invalid_grant")
    assert (await oauth.get("/oauth/userinfo", headers=bearer(third["access_token"]))).status_code == 401
    status, _ = await refresh(third["refresh_token"])
    assert status == 400


async def test_another_clients_refresh_token_is_refused_and_left_alone(
    oauth: AsyncTestClient[Litestar], citizen_access: str
) -> None:
    token = (await flows.tokens(oauth, citizen_access))["refresh_token"]
    form = {"grant_type": "refresh_token", "client_id": flows.OTHER_ID, "refresh_token": token}
    stolen = await oauth.post("/oauth/token", data=form)
    assert stolen.status_code == 400
    assert stolen.json()["error"] == "invalid_grant"
    own = await oauth.post("/oauth/token", data={**form, "client_id": flows.PUBLIC_ID})
    assert own.status_code == 200


async def test_a_refresh_cannot_widen_the_scope(oauth: AsyncTestClient[Litestar], citizen_access: str) -> None:
    token = (await flows.tokens(oauth, citizen_access))["refresh_token"]
    form = {"grant_type": "refresh_token", "client_id": flows.PUBLIC_ID, "refresh_token": token, "scope": "hpf.read"}
    response = await oauth.post("/oauth/token", data=form)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


async def test_client_credentials_only_for_confidential_clients(oauth: AsyncTestClient[Litestar]) -> None:
    public = await oauth.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": flows.PUBLIC_ID})
    assert public.status_code == 400
    assert public.json()["error"] == "unauthorized_client"

    ok = await oauth.post(
        "/oauth/token", data={"grant_type": "client_credentials", "scope": "hpf.read"}, headers=flows.basic()
    )
    assert ok.status_code == 200, ok.text
    body = ok.json()
    assert body["scope"] == "hpf.read"
    assert "refresh_token" not in body
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["sub"] == flows.CONF_ID
    # A machine token speaks for no citizen: the citizen routes refuse it.
    assert (await oauth.get("/oauth/userinfo", headers=bearer(body["access_token"]))).status_code == 401

    wrong = await oauth.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=flows.basic(secret="x"))
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"


async def test_delegated_tokens_cannot_be_used_as_first_party_tokens(
    oauth: AsyncTestClient[Litestar], citizen_access: str
) -> None:
    body = await flows.tokens(oauth, citizen_access)
    assert (await oauth.get("/oauth/userinfo", headers=bearer(body["access_token"]))).status_code == 200
    me = await oauth.get("/v1/me", headers=bearer(body["access_token"]))
    assert me.status_code == 401  # audience haoban-api:delegated is not haoban-api
    first_party = await oauth.post("/v1/auth/refresh", json={"refresh_token": body["refresh_token"]})
    assert first_party.status_code == 422
    id_as_bearer = await oauth.get("/oauth/userinfo", headers=bearer(body["id_token"]))
    assert id_as_bearer.status_code == 401
