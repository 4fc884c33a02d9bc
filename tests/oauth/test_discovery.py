"""Discovery: the metadata, its issuer equal to every token's `iss`, and a JWKS with public members only."""

from __future__ import annotations

import jwt
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.conftest import TEST_ISSUER
from tests.oauth import flows


async def test_metadata_advertises_only_what_the_server_does(oauth: AsyncTestClient[Litestar]) -> None:
    response = await oauth.get("/.well-known/openid-configuration")
    assert response.status_code == 200
    meta = response.json()
    assert meta["issuer"] == TEST_ISSUER
    assert meta["jwks_uri"] == TEST_ISSUER + "/.well-known/jwks.json"
    for name in ("authorization", "pushed_authorization_request", "token", "revocation", "introspection", "userinfo"):
        assert meta[f"{name}_endpoint"].startswith(TEST_ISSUER + "/"), name
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["response_types_supported"] == ["code"]
    assert not {"password", "implicit"} & set(meta["grant_types_supported"])
    assert meta["token_endpoint_auth_methods_supported"] == ["none", "client_secret_basic"]
    assert meta["authorization_response_iss_parameter_supported"] is True
    assert "hpf.read" in meta["scopes_supported"]


async def test_issuer_is_byte_identical_to_the_iss_of_access_and_id_tokens(
    oauth: AsyncTestClient[Litestar], citizen_access: str
) -> None:
    issuer = (await oauth.get("/.well-known/openid-configuration")).json()["issuer"]
    body = await flows.tokens(oauth, citizen_access)
    for token in (body["access_token"], body["id_token"]):
        assert jwt.decode(token, options={"verify_signature": False})["iss"] == issuer


async def test_jwks_has_no_private_or_symmetric_members(oauth: AsyncTestClient[Litestar]) -> None:
    meta = (await oauth.get("/.well-known/openid-configuration")).json()
    path = meta["jwks_uri"].removeprefix(TEST_ISSUER)
    keys = (await oauth.get(path)).json()["keys"]
    assert keys
    for key in keys:
        assert not {"d", "p", "q", "dp", "dq", "qi", "k"} & set(key)
        assert key["kty"] == "EC"


async def test_rfc8414_metadata_equals_discovery_and_its_endpoints_answer(oauth: AsyncTestClient[Litestar]) -> None:
    response = await oauth.get("/.well-known/oauth-authorization-server")
    assert response.status_code == 200
    meta = response.json()
    assert meta == (await oauth.get("/.well-known/openid-configuration")).json()
    assert "urn:haoban:loa:face" in meta["acr_values_supported"]
    gets = {"jwks_uri", "userinfo_endpoint", "authorization_endpoint"}
    for name, url in meta.items():
        if not (name.endswith("_endpoint") or name == "jwks_uri"):
            continue
        path = url.removeprefix(TEST_ISSUER)
        answer = await (oauth.get(path) if name in gets else oauth.post(path, data={}))
        assert answer.status_code not in {404, 405}, (name, answer.status_code)
