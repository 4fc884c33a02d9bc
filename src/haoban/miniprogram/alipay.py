"""Alipay mini-program login: `alipay.system.oauth.token` on the open-platform gateway.

    POST https://openapi.alipay.com/gateway.do   (application/x-www-form-urlencoded)
        app_id, method=alipay.system.oauth.token, format=JSON, charset=utf-8,
        sign_type=RSA2, timestamp (Beijing time, yyyy-MM-dd HH:mm:ss), version=1.0,
        grant_type=authorization_code, code, sign
    200 {"alipay_system_oauth_token_response": {"user_id": "2088…", "open_id"?: "…",
         "access_token": "…", …}, "sign": "…"}
    200 {"error_response": {"code": "40002", "msg": "Invalid Arguments",
         "sub_code": "isv.code-invalid", "sub_msg": "…"}, "sign": "…"}

`sign` is RSA-SHA256 (PKCS#1 v1.5) over the other parameters sorted by name and
joined as `k=v&…`, base64-encoded. Mapped: sub_code `isv.code-invalid` or
`isv.code-expired` -> `CodeRejected`; code 20000 (service unavailable) ->
`PlatformUnavailable("busy")` (503); any other error or an unreadable body ->
`PlatformUnavailable` (502). The identity is `open_id` when Alipay sends one
(newer apps), else `user_id`. The access token is dropped.
Not done: verifying the response's `sign` with Alipay's public key (TLS only).
"""

from __future__ import annotations

import base64
from datetime import timedelta, timezone

import httpx
import msgspec
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from haoban.kit.clock import Clock
from haoban.miniprogram._http import send
from haoban.miniprogram.ports import CodeRejected, PlatformIdentity, PlatformUnavailable
from haoban.miniprogram.settings import AlipaySettings

BEIJING = timezone(timedelta(hours=8))
CODE_SUB_CODES = frozenset({"isv.code-invalid", "isv.code-expired"})
BUSY_CODES = frozenset({"20000"})


class _Token(msgspec.Struct, frozen=True, kw_only=True):
    user_id: str | None = None
    open_id: str | None = None


class _Error(msgspec.Struct, frozen=True, kw_only=True):
    code: str = ""
    msg: str = ""
    sub_code: str = ""
    sub_msg: str = ""


class _Answer(msgspec.Struct, frozen=True, kw_only=True):
    alipay_system_oauth_token_response: _Token | None = None
    error_response: _Error | None = None


_DECODER = msgspec.json.Decoder(_Answer)


def sign(params: dict[str, str], key: rsa.RSAPrivateKey) -> str:
    content = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "sign" and v != "")
    return base64.b64encode(key.sign(content.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()


def _mapped_error(error: _Error) -> Exception:
    if error.sub_code in CODE_SUB_CODES:
        return CodeRejected(f"alipay {error.sub_code}")
    if error.code in BUSY_CODES:
        return PlatformUnavailable("busy", f"alipay {error.code} {error.sub_code}")
    return PlatformUnavailable("platform_error", f"alipay {error.code} {error.sub_code}"[:200])


def parse(body: bytes) -> PlatformIdentity:
    """The identity in an `alipay.system.oauth.token` answer, or the mapped error."""
    try:
        answer = _DECODER.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise PlatformUnavailable("bad_response", "alipay") from exc
    if answer.error_response is not None:
        raise _mapped_error(answer.error_response)
    token = answer.alipay_system_oauth_token_response
    if token is None:
        raise PlatformUnavailable("bad_response", "alipay: no token response")
    open_id = token.open_id or token.user_id
    if not open_id:
        raise PlatformUnavailable("bad_response", "alipay: no user_id or open_id")
    return PlatformIdentity(platform="alipay", open_id=open_id)


class AlipayPlatform:
    def __init__(self, settings: AlipaySettings, client: httpx.AsyncClient, clock: Clock, *, timeout_ms: int) -> None:
        key = serialization.load_pem_private_key(settings.private_key_pem.encode(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("HAOBAN_ALIPAY_PRIVATE_KEY must be an RSA private key (RSA2)")
        self._key = key
        self._settings = settings
        self._client = client
        self._clock = clock
        self._timeout_s = timeout_ms / 1000

    def params(self, code: str) -> dict[str, str]:
        params = {
            "app_id": self._settings.app_id,
            "method": "alipay.system.oauth.token",
            "format": "JSON",
            "charset": "utf-8",
            "sign_type": "RSA2",
            "timestamp": self._clock.now().astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
            "version": "1.0",
            "grant_type": "authorization_code",
            "code": code,
        }
        params["sign"] = sign(params, self._key)
        return params

    async def exchange(self, code: str) -> PlatformIdentity:
        request = self._client.build_request(
            "POST",
            self._settings.gateway,
            data=self.params(code),
            headers={"Accept": "application/json"},
            timeout=self._timeout_s,
        )
        response = await send(self._client, request, self._timeout_s, "alipay")
        return parse(response.content)
