"""The WeChat and Alipay adapters against httpx.MockTransport: requests, success and error shapes."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import parse_qsl

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from haoban.kit.clock import FrozenClock
from haoban.miniprogram.alipay import AlipayPlatform
from haoban.miniprogram.ports import CodeRejected, PlatformIdentity, PlatformUnavailable
from haoban.miniprogram.settings import AlipaySettings, WeChatSettings
from haoban.miniprogram.wechat import WeChatPlatform

Handler = Callable[[httpx.Request], httpx.Response]
WECHAT = WeChatSettings(appid="wx1234567890", secret="wechat-secret")
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PEM = RSA_KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()
ALIPAY = AlipaySettings(app_id="2021000000000001", private_key_pem=PEM)
CLOCK = FrozenClock(datetime(2026, 11, 28, 2, 30, tzinfo=UTC))


def wechat(handler: Handler) -> WeChatPlatform:
    return WeChatPlatform(WECHAT, httpx.AsyncClient(transport=httpx.MockTransport(handler)), timeout_ms=500)


def alipay(handler: Handler) -> AlipayPlatform:
    return AlipayPlatform(ALIPAY, httpx.AsyncClient(transport=httpx.MockTransport(handler)), CLOCK, timeout_ms=500)


class TestWeChat:
    async def test_success_sends_code2session_parameters_and_parses_openid_and_unionid(self) -> None:
        seen: list[httpx.Request] = []

        def handler(request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return httpx.Response(200, json={"openid": "oW1", "session_key": "k==", "unionid": "uW1"})

        identity = await wechat(handler).exchange("code-1")
        assert identity == PlatformIdentity(platform="wechat", open_id="oW1", union_id="uW1")
        request = seen[0]
        assert request.method == "GET"
        assert request.url.host == "api.weixin.qq.com"
        assert request.url.path == "/sns/jscode2session"
        assert dict(request.url.params) == {
            "appid": "wx1234567890",
            "secret": "wechat-secret",
            "js_code": "code-1",
            "grant_type": "authorization_code",
        }

    async def test_success_without_unionid(self) -> None:
        identity = await wechat(lambda _: httpx.Response(200, json={"openid": "oW2", "session_key": "k"})).exchange("c")
        assert identity.union_id is None

    @pytest.mark.parametrize("errcode", [40029, 40163])
    async def test_an_invalid_or_used_code_is_rejected(self, errcode: int) -> None:
        answer = {"errcode": errcode, "errmsg": "invalid code"}
        with pytest.raises(CodeRejected):
            await wechat(lambda _: httpx.Response(200, json=answer)).exchange("c")

    @pytest.mark.parametrize(
        ("response", "reason"),
        [
            (httpx.Response(200, json={"errcode": -1, "errmsg": "system error"}), "busy"),
            (httpx.Response(200, json={"errcode": 45011, "errmsg": "api minute-quota reach limit"}), "busy"),
            (httpx.Response(200, json={"errcode": 40013, "errmsg": "invalid appid"}), "platform_error"),
            (httpx.Response(200, content=b"<html>gateway</html>"), "bad_response"),
            (httpx.Response(200, json={"session_key": "k"}), "bad_response"),
            (httpx.Response(502, content=b"bad gateway"), "busy"),
            (httpx.Response(403, content=b"forbidden"), "http_error"),
        ],
    )
    async def test_errors_are_mapped(self, response: httpx.Response, reason: str) -> None:
        with pytest.raises(PlatformUnavailable) as caught:
            await wechat(lambda _: response).exchange("c")
        assert caught.value.reason == reason

    async def test_a_timeout_is_unavailable(self) -> None:
        def handler(request: httpx.Request) -> httpx.Response:
            raise httpx.ReadTimeout("slow", request=request)

        with pytest.raises(PlatformUnavailable) as caught:
            await wechat(handler).exchange("c")
        assert caught.value.reason == "timeout"

    async def test_unreachable_is_unavailable(self) -> None:
        def handler(request: httpx.Request) -> httpx.Response:
            raise httpx.ConnectError("refused", request=request)

        with pytest.raises(PlatformUnavailable) as caught:
            await wechat(handler).exchange("c")
        assert caught.value.reason == "http_error"


class TestAlipay:
    async def test_success_sends_a_signed_request_and_parses_user_id(self) -> None:
        seen: list[httpx.Request] = []

        def handler(request: httpx.Request) -> httpx.Response:
            seen.append(request)
            body = {
                "alipay_system_oauth_token_response": {
                    "user_id": "2088102150477652",
                    "access_token": "20120823ac6ffaa4d2d84e7384bf983531473993",
                    "expires_in": 3600,
                },
                "sign": "ERITJKEIJKJHKKKKKKKHJEREEEEEEEEEEE",
            }
            return httpx.Response(200, json=body)

        identity = await alipay(handler).exchange("auth-code-1")
        assert identity == PlatformIdentity(platform="alipay", open_id="2088102150477652")
        request = seen[0]
        assert request.method == "POST"
        assert str(request.url) == "https://openapi.alipay.com/gateway.do"
        params = dict(parse_qsl(request.content.decode()))
        assert params["method"] == "alipay.system.oauth.token"
        assert params["grant_type"] == "authorization_code"
        assert params["code"] == "auth-code-1"
        assert params["sign_type"] == "RSA2"
        assert params["timestamp"] == "2026-11-28 10:30:00"  # Beijing time
        signature = base64.b64decode(params.pop("sign"))
        content = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
        RSA_KEY.public_key().verify(signature, content.encode(), padding.PKCS1v15(), hashes.SHA256())

    async def test_open_id_is_preferred_when_present(self) -> None:
        body = {"alipay_system_oauth_token_response": {"open_id": "074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5"}}
        identity = await alipay(lambda _: httpx.Response(200, json=body)).exchange("c")
        assert identity.open_id == "074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5"

    @pytest.mark.parametrize("sub_code", ["isv.code-invalid", "isv.code-expired"])
    async def test_an_invalid_code_is_rejected(self, sub_code: str) -> None:
        body = {"error_response": {"code": "40002", "msg": "Invalid Arguments", "sub_code": sub_code}, "sign": "x"}
        with pytest.raises(CodeRejected):
            await alipay(lambda _: httpx.Response(200, json=body)).exchange("c")

    @pytest.mark.parametrize(
        ("body", "reason"),
        [
            ({"error_response": {"code": "20000", "msg": "Service Currently Unavailable"}}, "busy"),
            ({"error_response": {"code": "40004", "msg": "Business Failed", "sub_code": "isv.x"}}, "platform_error"),
            ({"unexpected": {}}, "bad_response"),
            ({"alipay_system_oauth_token_response": {"access_token": "t"}}, "bad_response"),
        ],
    )
    async def test_errors_are_mapped(self, body: dict[str, object], reason: str) -> None:
        with pytest.raises(PlatformUnavailable) as caught:
            await alipay(lambda _: httpx.Response(200, json=body)).exchange("c")
        assert caught.value.reason == reason

    async def test_a_timeout_is_unavailable(self) -> None:
        def handler(request: httpx.Request) -> httpx.Response:
            raise httpx.ConnectTimeout("slow", request=request)

        with pytest.raises(PlatformUnavailable) as caught:
            await alipay(handler).exchange("c")
        assert caught.value.reason == "timeout"
