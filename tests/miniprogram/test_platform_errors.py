"""Platform failures become 401/502/503 problems at `POST /v1/auth/miniprogram/{platform}`."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.miniprogram.settings import WeChatSettings
from haoban.miniprogram.wechat import WeChatPlatform
from haoban.runtime import Runtime

Handler = Callable[[httpx.Request], httpx.Response]


def use_wechat(client: AsyncTestClient[Litestar], handler: Handler) -> None:
    runtime: Runtime = client.app.state.runtime
    transport = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    runtime.miniprogram_platforms["wechat"] = WeChatPlatform(
        WeChatSettings(appid="wx1", secret="s"), transport, timeout_ms=500
    )


def _timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("slow", request=request)


@pytest.mark.parametrize(
    ("handler", "status", "code"),
    [
        (
            lambda _: httpx.Response(200, json={"errcode": 40029, "errmsg": "invalid code"}),
            401,
            "miniprogram_code_invalid",
        ),
        (
            lambda _: httpx.Response(200, json={"errcode": -1, "errmsg": "busy"}),
            503,
            "miniprogram_platform_unavailable",
        ),
        (_timeout, 503, "miniprogram_platform_unavailable"),
        (
            lambda _: httpx.Response(200, json={"errcode": 40125, "errmsg": "bad secret"}),
            502,
            "miniprogram_platform_error",
        ),
        (lambda _: httpx.Response(200, content=b"not json"), 502, "miniprogram_platform_error"),
    ],
)
async def test_platform_errors_are_problems(
    client: AsyncTestClient[Litestar], handler: Handler, status: int, code: str
) -> None:
    use_wechat(client, handler)
    response = await client.post("/v1/auth/miniprogram/wechat", json={"code": "abc"})
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code
    if status == 503:
        assert response.headers["retry-after"] == "5"


async def test_a_wechat_user_from_the_http_adapter_gets_a_ticket(client: AsyncTestClient[Litestar]) -> None:
    use_wechat(client, lambda _: httpx.Response(200, json={"openid": "oHttp", "session_key": "k"}))
    response = await client.post("/v1/auth/miniprogram/wechat", json={"code": "abc"})
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "binding_required"
