"""The WeChat and Alipay adapters against httpx.MockTransport: requests, success and error shapes."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import parse_qsl

import httpx
import msgspec
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from haoban.kit.clock import FrozenClock
from haoban.miniprogram.alipay import RESPONSE_NODE, AlipayPlatform
from haoban.miniprogram.ports import CodeRejected, PlatformIdentity, PlatformUnavailable
from haoban.miniprogram.settings import AlipaySettings, WeChatSettings
from haoban.miniprogram.wechat import WeChatPlatform

Handler = Callable[[httpx.Request], httpx.Response]
WECHAT = WeChatSettings(appid="wx1234567890", secret="wechat-secret")
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PEM = RSA_KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()
ALIPAY_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # Alipay's own key pair
ALIPAY_PUBLIC_PEM = (
    ALIPAY_KEY.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
).decode()
ALIPAY = AlipaySettings(app_id="2021000000000001", private_key_pem=PEM, alipay_public_key_pem=ALIPAY_PUBLIC_PEM)
CLOCK = FrozenClock(datetime(2026, 11, 28, 2, 30, tzinfo=UTC))


def wechat(handler: Handler) -> WeChatPlatform:
    return WeChatPlatform(WECHAT, httpx.AsyncClient(transport=httpx.MockTransport(handler)), timeout_ms=500)


def alipay_body(node: str, content: dict[str, object], *, key: rsa.RSAPrivateKey | None = ALIPAY_KEY) -> bytes:
    """An answer as Alipay's gateway writes it: the node's exact bytes, then `sign` over them."""
    raw = json.dumps(content, ensure_ascii=False, indent=1).encode()  # odd spacing: the exact bytes are signed
    body = b'{"' + node.encode() + b'": ' + raw
    if key is not None:
        signature = base64.b64encode(key.sign(raw, padding.PKCS1v15(), hashes.SHA256()))
        body += b', "sign": "' + signature + b'"'
    return body + b"}"


def alipay_answer(node: str, content: dict[str, object], **kw: rsa.RSAPrivateKey | None) -> httpx.Response:
    return httpx.Response(200, content=alipay_body(node, content, **kw), headers={"content-type": "application/json"})


TOKEN = RESPONSE_NODE


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
            token = {"user_id": "2088102150477652", "access_token": "20120823ac6ffaa4d2d8", "expires_in": 3600}
            return alipay_answer(TOKEN, token)

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
        token: dict[str, object] = {"open_id": "074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5", "user_id": "2088"}
        identity = await alipay(lambda _: alipay_answer(TOKEN, token)).exchange("c")
        assert identity.open_id == "074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5"

    @pytest.mark.parametrize("sub_code", ["isv.code-invalid", "isv.code-expired"])
    async def test_an_invalid_code_is_rejected(self, sub_code: str) -> None:
        error: dict[str, object] = {"code": "40002", "msg": "Invalid Arguments", "sub_code": sub_code}
        with pytest.raises(CodeRejected):
            await alipay(lambda _: alipay_answer("error_response", error)).exchange("c")

    @pytest.mark.parametrize(
        ("response", "reason"),
        [
            (alipay_answer("error_response", {"code": "20000", "msg": "Service Currently Unavailable"}), "busy"),
            (alipay_answer("error_response", {"code": "40004", "sub_code": "isv.x"}), "platform_error"),
            (httpx.Response(200, json={"unexpected": {}, "sign": "x"}), "bad_response"),
            (httpx.Response(200, content=b"<html>gateway</html>"), "bad_response"),
            (alipay_answer(TOKEN, {"access_token": "t"}), "bad_response"),
            (httpx.Response(502, content=b"bad gateway"), "busy"),
        ],
    )
    async def test_errors_are_mapped(self, response: httpx.Response, reason: str) -> None:
        with pytest.raises(PlatformUnavailable) as caught:
            await alipay(lambda _: response).exchange("c")
        assert caught.value.reason == reason

    async def test_a_timeout_is_unavailable(self) -> None:
        def handler(request: httpx.Request) -> httpx.Response:
            raise httpx.ConnectTimeout("slow", request=request)

        with pytest.raises(PlatformUnavailable) as caught:
            await alipay(handler).exchange("c")
        assert caught.value.reason == "timeout"


def _tampered() -> bytes:
    """A genuine signature over one user id, with the body changed to another."""
    return alipay_body(TOKEN, {"user_id": "2088000000000001"}).replace(b"2088000000000001", b"2088999999999999")


class TestAlipaySignature:
    """Alipay's response `sign` must verify with Alipay's public key, or nothing in the answer is used."""

    @pytest.mark.parametrize(
        "body",
        [
            pytest.param(alipay_body(TOKEN, {"user_id": "2088102150477652"}, key=None), id="missing"),
            pytest.param(alipay_body(TOKEN, {"user_id": "2088102150477652"}, key=RSA_KEY), id="another-key"),
            pytest.param(_tampered(), id="tampered"),
            pytest.param(b'{"' + TOKEN.encode() + b'": {"user_id": "2088"}, "sign": "not base64!"}', id="not-base64"),
            pytest.param(b'{"' + TOKEN.encode() + b'": {"user_id": "2088"}, "sign": 42}', id="not-a-string"),
            pytest.param(
                alipay_body("error_response", {"code": "40002", "sub_code": "isv.code-invalid"}, key=None),
                id="unsigned-error",
            ),
        ],
    )
    async def test_a_bad_or_missing_signature_is_never_trusted(self, body: bytes) -> None:
        with pytest.raises(PlatformUnavailable) as caught:
            await alipay(lambda _: httpx.Response(200, content=body)).exchange("c")
        assert caught.value.reason == "bad_signature"

    async def test_the_signature_covers_the_exact_bytes_of_the_node(self) -> None:
        """Escapes and spacing as Alipay sent them; re-serialising the node would break the check."""
        raw = b'{ "user_id" : "2088102150477652", "nick" : "\\u5f20\\u4e09" }'
        signature = base64.b64encode(ALIPAY_KEY.sign(raw, padding.PKCS1v15(), hashes.SHA256()))
        body = b'{"' + TOKEN.encode() + b'":' + raw + b',"sign":"' + signature + b'"}'
        identity = await alipay(lambda _: httpx.Response(200, content=body)).exchange("c")
        assert identity.open_id == "2088102150477652"

    def test_the_adapter_needs_an_rsa_public_key(self) -> None:
        ec_key = ec.generate_private_key(ec.SECP256R1()).public_key()
        pem = ec_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        settings = msgspec.structs.replace(ALIPAY, alipay_public_key_pem=pem.decode())
        with pytest.raises(ValueError, match="HAOBAN_ALIPAY_PUBLIC_KEY"):
            AlipayPlatform(settings, httpx.AsyncClient(), CLOCK, timeout_ms=500)
