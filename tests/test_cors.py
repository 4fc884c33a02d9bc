"""CORS for the configured H5 origins only; preflight answered before authentication."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.app import create_app
from haoban.kit.clock import FrozenClock
from haoban.kit.settings_error import SettingsError
from haoban.settings import DEMO_H5_ORIGIN, load_settings
from tests.conftest import make_settings, server_env

H5 = "https://h5.haoban.test"
OTHER = "https://evil.example"
AUTHED = "/v1/me/authorizations"  # 401 without a token
URL = "postgresql://u@127.0.0.1/db"


def preflight(origin: str, method: str = "GET", headers: str = "authorization") -> dict[str, str]:
    return {"Origin": origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": headers}


def cors_headers(response_headers: httpx.Headers) -> list[str]:
    return [name for name in response_headers if name.lower().startswith("access-control-")]


@pytest.fixture
async def h5_client(db_url: str, clock: FrozenClock) -> AsyncIterator[AsyncTestClient[Litestar]]:
    app = create_app(
        make_settings(db_url, HAOBAN_CORS_ORIGINS=f"{H5}, https://other-h5.haoban.test"),
        database_url=db_url,
        clock=clock,
    )
    async with AsyncTestClient(app=app, base_url="http://haoban.test") as c:
        yield c


async def test_preflight_from_a_configured_origin_is_answered_before_auth(
    h5_client: AsyncTestClient[Litestar],
) -> None:
    response = await h5_client.options(
        AUTHED, headers=preflight(H5, "POST", "authorization, content-type, accept-language")
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == H5
    assert "POST" in response.headers["access-control-allow-methods"]
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed
    assert "idempotency-key" in allowed
    assert "access-control-allow-credentials" not in response.headers
    assert response.headers["vary"] == "Origin"


async def test_the_actual_request_from_a_configured_origin_carries_cors_headers(
    h5_client: AsyncTestClient[Litestar],
) -> None:
    response = await h5_client.get(AUTHED, headers={"Origin": H5})
    assert response.status_code == 401, "CORS does not open the API, it only lets the page read the answer"
    assert response.headers["access-control-allow-origin"] == H5
    assert "x-request-id" in response.headers["access-control-expose-headers"].lower()
    assert (await h5_client.get("/health/live", headers={"Origin": H5})).headers["access-control-allow-origin"] == H5


@pytest.mark.parametrize("origin", [OTHER, "https://h5.haoban.test.evil.example", "http://h5.haoban.test", "null"])
async def test_other_origins_get_no_cors_headers(h5_client: AsyncTestClient[Litestar], origin: str) -> None:
    pre = await h5_client.options(AUTHED, headers=preflight(origin))
    assert cors_headers(pre.headers) == []
    # Routed like any OPTIONS: Litestar's own answer naming the allowed methods, no CORS.
    assert pre.status_code == 204
    assert "GET" in pre.headers["allow"]
    actual = await h5_client.get(AUTHED, headers={"Origin": origin})
    assert actual.status_code == 401
    assert cors_headers(actual.headers) == []
    # A shared cache must not hand this answer to an allowed origin.
    assert "origin" in actual.headers["vary"].lower()
    cacheable = await h5_client.get("/.well-known/openid-configuration", headers={"Origin": origin})
    assert "origin" in cacheable.headers["vary"].lower()


async def test_a_preflight_asking_for_a_header_we_do_not_allow_is_problem_json(
    h5_client: AsyncTestClient[Litestar],
) -> None:
    response = await h5_client.options(
        AUTHED,
        headers=preflight(H5, "GET", "x-made-up"),
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "cors_refused"
    assert cors_headers(response.headers) == []
    zh = await h5_client.options(AUTHED, headers={**preflight(H5, "TRACE"), "Accept-Language": "zh-CN"})
    assert zh.status_code == 400
    assert zh.json()["title"] == "不允许此跨域请求的方法或请求头"


async def test_no_origin_configured_means_no_cors_at_all(client: AsyncTestClient[Litestar]) -> None:
    pre = await client.options(AUTHED, headers=preflight(H5))
    assert cors_headers(pre.headers) == []
    assert cors_headers((await client.get(AUTHED, headers={"Origin": H5})).headers) == []


def test_demo_allows_the_demo_h5_origin_and_production_none(tmp_path: object) -> None:
    assert load_settings(server_env(URL)).http.cors_origins == ()
    demo = load_settings({"HAOBAN_DATA_DIR": str(tmp_path)}, demo=True)
    assert demo.http.cors_origins == (DEMO_H5_ORIGIN,)


@pytest.mark.parametrize(
    "value", ["*", "https://h5.haoban.test/", "https://h5.haoban.test/path", "h5.haoban.test", "http://h5.haoban.test"]
)
def test_a_bad_origin_stops_the_start(value: str) -> None:
    with pytest.raises(SettingsError, match="HAOBAN_CORS_ORIGINS"):
        load_settings({**server_env(URL), "HAOBAN_CORS_ORIGINS": value})
