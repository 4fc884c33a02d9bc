"""Platform failures become 401/502/503 problems at `POST /v1/auth/miniprogram/{platform}`."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.miniprogram.alipay import RESPONSE_NODE, AlipayPlatform
from haoban.miniprogram.settings import WeChatSettings
from haoban.miniprogram.wechat import WeChatPlatform
from haoban.runtime import Runtime
from tests.miniprogram.helpers import VERIFIER, challenge_of
from tests.miniprogram.test_http_adapters import ALIPAY, RSA_KEY, alipay_body

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
    response = await client.post(
        "/v1/auth/miniprogram/wechat", json={"code": "abc", "ticket_challenge": challenge_of(VERIFIER)}
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code
    if status == 503:
        assert response.headers["retry-after"] == "5"


async def test_a_wechat_user_from_the_http_adapter_gets_a_ticket(client: AsyncTestClient[Litestar]) -> None:
    use_wechat(client, lambda _: httpx.Response(200, json={"openid": "oHttp", "session_key": "k"}))
    response = await client.post(
        "/v1/auth/miniprogram/wechat", json={"code": "abc", "ticket_challenge": challenge_of(VERIFIER)}
    )
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "binding_required"


async def test_an_alipay_answer_with_a_bad_signature_is_a_platform_error(client: AsyncTestClient[Litestar]) -> None:
    """A forged "this user" answer (signed with a key that is not Alipay's) signs no one in and binds nothing."""
    runtime: Runtime = client.app.state.runtime
    forged = alipay_body(RESPONSE_NODE, {"user_id": "2088000000000009"}, key=RSA_KEY)
    transport = httpx.AsyncClient(transport=httpx.MockTransport(lambda _: httpx.Response(200, content=forged)))
    runtime.miniprogram_platforms["alipay"] = AlipayPlatform(ALIPAY, transport, runtime.clock, timeout_ms=500)
    response = await client.post(
        "/v1/auth/miniprogram/alipay", json={"code": "abc", "ticket_challenge": challenge_of(VERIFIER)}
    )
    assert response.status_code == 502, response.text
    assert response.json()["code"] == "miniprogram_platform_error"
    genuine = alipay_body(RESPONSE_NODE, {"user_id": "2088000000000009"})
    transport = httpx.AsyncClient(transport=httpx.MockTransport(lambda _: httpx.Response(200, content=genuine)))
    runtime.miniprogram_platforms["alipay"] = AlipayPlatform(ALIPAY, transport, runtime.clock, timeout_ms=500)
    response = await client.post(
        "/v1/auth/miniprogram/alipay", json={"code": "abc", "ticket_challenge": challenge_of(VERIFIER)}
    )
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "binding_required"
