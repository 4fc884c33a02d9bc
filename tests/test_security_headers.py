"""Security headers on every answer, no-store on personal data, and /metrics behind a token."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.app import create_app
from haoban.kit.clock import FrozenClock
from tests.conftest import make_settings
from tests.factories import bearer, citizen_with_tokens

Client = AsyncTestClient[Litestar]
TOKEN = "a-metrics-token-that-is-long-enough-0123456789"


async def test_nosniff_and_referrer_policy_on_every_kind_of_answer(client: Client) -> None:
    _, pair = await citizen_with_tokens(client)
    answers = [
        await client.get("/health/live"),
        await client.get("/v1/me", headers=bearer(pair["access_token"])),
        await client.get("/v1/me"),  # 401 problem
        await client.get("/v1/no-such-route"),  # 404 from the router
        await client.delete("/health/live"),  # 405
        await client.post("/sandbox/citizens", content=b"{", headers={"content-type": "application/json"}),
        await client.get("/openapi/openapi.json"),
    ]
    for response in answers:
        assert response.headers.get("x-content-type-options") == "nosniff", response.url
        assert response.headers.get("referrer-policy") == "no-referrer", response.url


async def test_personal_data_and_auth_answers_are_never_stored(client: Client) -> None:
    _, pair = await citizen_with_tokens(client, scope=["openid", "profile", "hpf.read"])
    headers = bearer(pair["access_token"])
    for response in (
        await client.get("/v1/me", headers=headers),
        await client.get("/v1/me/linked-data", headers=headers),
        await client.get("/v1/me/consents", headers=headers),
        await client.get("/v1/me/data-access-log", headers=headers),
        await client.get("/v1/me/notifications", headers=headers),
        await client.post("/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}),
        await client.post("/oauth/token", data={"grant_type": "client_credentials"}),
    ):
        assert response.headers.get("cache-control") == "no-store", (response.url, response.status_code)


async def test_a_route_that_chose_a_cache_policy_keeps_it(client: Client) -> None:
    response = await client.get("/docs")
    assert response.headers["cache-control"] == "no-cache"


async def test_hsts_when_the_issuer_is_https(client: Client) -> None:
    response = await client.get("/health/live")
    assert response.headers["strict-transport-security"].startswith("max-age=")


async def test_no_hsts_on_an_http_issuer(db_url: str, clock: FrozenClock) -> None:
    settings = make_settings(db_url, HAOBAN_ISSUER="http://127.0.0.1:8000", HAOBAN_ALLOW_HTTP_ISSUER="true")
    async with AsyncTestClient(app=create_app(settings, database_url=db_url, clock=clock)) as client:
        response = await client.get("/health/live")
    assert "strict-transport-security" not in response.headers


class TestMetricsAccess:
    async def test_production_without_a_token_has_no_metrics(self, client: Client) -> None:
        response = await client.get("/metrics")
        assert response.status_code == 404
        assert "HAOBAN_METRICS_TOKEN" in response.json()["detail_en"]

    @pytest.fixture
    async def guarded(self, db_url: str, clock: FrozenClock) -> AsyncIterator[Client]:
        app = create_app(make_settings(db_url, HAOBAN_METRICS_TOKEN=TOKEN), database_url=db_url, clock=clock)
        async with AsyncTestClient(app=app) as client:
            yield client

    async def test_the_token_opens_metrics(self, guarded: Client) -> None:
        response = await guarded.get("/metrics", headers=bearer(TOKEN))
        assert response.status_code == 200
        assert "haoban_http_requests_total" in response.text

    @pytest.mark.parametrize("authorization", [None, "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x"])
    async def test_anything_else_is_401(self, guarded: Client, authorization: str | None) -> None:
        headers = {"Authorization": authorization} if authorization else {}
        response = await guarded.get("/metrics", headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.headers["www-authenticate"].startswith("Bearer")

    async def test_a_short_token_stops_the_start(self, db_url: str) -> None:
        from haoban.kit.settings_error import SettingsError

        # Read with the rest of the settings (load_settings), before any app is built.
        with pytest.raises(SettingsError, match="HAOBAN_METRICS_TOKEN"):
            create_app(make_settings(db_url, HAOBAN_METRICS_TOKEN="short"), database_url=db_url)

    async def test_demo_metrics_are_open(self, db_url: str, tmp_path: object, clock: FrozenClock) -> None:
        settings = make_settings(db_url, HAOBAN_MODE="demo", HAOBAN_DATA_DIR=str(tmp_path))
        async with AsyncTestClient(app=create_app(settings, database_url=db_url, clock=clock)) as client:
            assert (await client.get("/metrics")).status_code == 200
