"""Pushed authorization requests: only code + S256 + state + an exactly registered redirect URI."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.oauth import flows


async def test_a_valid_request_gets_a_short_lived_request_uri(oauth: AsyncTestClient[Litestar]) -> None:
    response = await flows.push(oauth)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["request_uri"].startswith("urn:ietf:params:oauth:request_uri:")
    assert body["expires_in"] == 60
    assert "location" not in response.headers


@pytest.mark.parametrize(
    "uri",
    [
        flows.REDIRECT + "/",
        "https://MINIPROGRAM.example/callback",
        "https://miniprogram.example/Callback",
        flows.REDIRECT + "?x=1",
        "http://miniprogram.example/callback",
        "https://miniprogram.example.evil.cn/callback",
        flows.REDIRECT + "#f",
        "https://miniprogram.example/callback/../evil",
        "https://miniprogram.example/callback%2F",
    ],
)
async def test_redirect_uri_variants_are_refused_without_redirecting(
    oauth: AsyncTestClient[Litestar], uri: str
) -> None:
    response = await flows.push(oauth, redirect_uri=uri)
    assert response.status_code == 400
    assert "location" not in response.headers
    body = response.json()
    assert body["error"] == "invalid_request"
    assert body["code"] == "invalid_redirect_uri"


@pytest.mark.parametrize(
    ("over", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": "code id_token"}, "unsupported_response_type"),
        ({"code_challenge_method": "plain", "code_challenge": flows.VERIFIER}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),
        ({"code_challenge": None}, "invalid_request"),
        ({"code_challenge": "too-short"}, "invalid_request"),
        ({"state": None}, "invalid_request"),
        ({"scope": "openid applications.write"}, "invalid_scope"),
        ({"scope": "openid admin"}, "invalid_scope"),
        ({"scope": None}, "invalid_scope"),
        ({"client_id": "nobody"}, "invalid_client"),
    ],
    ids=str,
)
async def test_invalid_requests_are_refused(
    oauth: AsyncTestClient[Litestar], over: dict[str, str | None], error: str
) -> None:
    response = await flows.push(oauth, **over)
    assert response.status_code in (400, 401), response.text
    assert response.json()["error"] == error
    assert "location" not in response.headers


async def test_the_app_sees_who_asks_for_what(oauth: AsyncTestClient[Litestar]) -> None:
    uri = await flows.request_uri(oauth, scope="openid hpf.read")
    response = await oauth.get("/oauth/authorize", params={"client_id": flows.PUBLIC_ID, "request_uri": uri})
    assert response.status_code == 200, response.text
    view = response.json()
    assert view["client_name"] == "demo-miniprogram 小程序"
    assert view["purpose"] == "Show the citizen's housing fund balance"
    assert view["scopes"] == ["openid", "hpf.read"]
    other = await oauth.get("/oauth/authorize", params={"client_id": flows.OTHER_ID, "request_uri": uri})
    assert other.status_code == 400
    unknown = await oauth.get(
        "/oauth/authorize", params={"client_id": flows.PUBLIC_ID, "request_uri": uri[:-4] + "AAAA"}
    )
    assert unknown.status_code == 400


async def test_a_repeated_parameter_is_invalid_request(oauth: AsyncTestClient[Litestar]) -> None:
    form = [*flows.par_form().items(), ("scope", "openid hpf.read")]
    response = await oauth.post(
        "/oauth/par",
        content=urlencode(form),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request"
    assert "scope" in response.json()["error_description"]
