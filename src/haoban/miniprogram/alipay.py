"""Alipay mini-program login: `alipay.system.oauth.token` on the open-platform gateway.

    POST https://openapi.alipay.com/gateway.do   (application/x-www-form-urlencoded)
        app_id, method=alipay.system.oauth.token, format=JSON, charset=utf-8,
        sign_type=RSA2, timestamp (Beijing time, yyyy-MM-dd HH:mm:ss), version=1.0,
        grant_type=authorization_code, code, sign
    200 {"alipay_system_oauth_token_response": {"user_id": "2088…", "open_id"?: "…",
         "access_token": "…", …}, "sign": "…"}
    200 {"error_response": {"code": "40002", "msg": "Invalid Arguments",
         "sub_code": "isv.code-invalid", "sub_msg": "…"}, "sign": "…"}

The request's `sign` is RSA-SHA256 (PKCS#1 v1.5) over the other parameters
sorted by name and joined as `k=v&…`, base64-encoded, with our app private key.
The response's `sign` is RSA-SHA256 with Alipay's public key over the exact
bytes of the response node (`alipay_system_oauth_token_response` or
`error_response`) as they appear in the body. An answer whose signature is
missing or wrong is never read: `PlatformUnavailable("bad_signature")` (502).
Mapped (after the check): sub_code `isv.code-invalid` or `isv.code-expired` ->
`CodeRejected`; code 20000 (service unavailable) -> `PlatformUnavailable("busy")`
(503); any other error or an unreadable body -> `PlatformUnavailable` (502).
The identity is `open_id` when Alipay sends one (newer apps), else `user_id`.
The access token is dropped.
"""

from __future__ import annotations

import base64
import binascii
import logging
from datetime import timedelta, timezone

import httpx
import msgspec
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from haoban.kit.clock import Clock
from haoban.miniprogram._http import send
from haoban.miniprogram.ports import CodeRejected, PlatformIdentity, PlatformUnavailable
from haoban.miniprogram.settings import AlipaySettings

BEIJING = timezone(timedelta(hours=8))
CODE_SUB_CODES = frozenset({"isv.code-invalid", "isv.code-expired"})
BUSY_CODES = frozenset({"20000"})
RESPONSE_NODE = "alipay_system_oauth_token_response"
ERROR_NODE = "error_response"

log = logging.getLogger("haoban.miniprogram")


class _Token(msgspec.Struct, frozen=True, kw_only=True):
    user_id: str | None = None
    open_id: str | None = None


class _Error(msgspec.Struct, frozen=True, kw_only=True):
    code: str = ""
    msg: str = ""
    sub_code: str = ""
    sub_msg: str = ""


_TOP = msgspec.json.Decoder(dict[str, msgspec.Raw])
_TOKEN = msgspec.json.Decoder(_Token)
_ERROR = msgspec.json.Decoder(_Error)
_SIGN = msgspec.json.Decoder(str)


def sign(params: dict[str, str], key: rsa.RSAPrivateKey) -> str:
    content = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "sign" and v != "")
    return base64.b64encode(key.sign(content.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()


def _mapped_error(error: _Error) -> Exception:
    if error.sub_code in CODE_SUB_CODES:
        return CodeRejected(f"alipay {error.sub_code}")
    if error.code in BUSY_CODES:
        return PlatformUnavailable("busy", f"alipay {error.code} {error.sub_code}")
    return PlatformUnavailable("platform_error", f"alipay {error.code} {error.sub_code}"[:200])


def _bad_signature(detail: str) -> PlatformUnavailable:
    log.warning("alipay response signature refused: %s", detail, extra={"platform": "alipay"})
    return PlatformUnavailable("bad_signature", f"alipay: {detail}")


def signed_node(body: bytes, alipay_key: rsa.RSAPublicKey) -> tuple[str, bytes]:
    """The response node's name and its exact bytes, once Alipay's signature over them checks out."""
    try:
        top = _TOP.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise PlatformUnavailable("bad_response", "alipay") from exc
    names = [name for name in (RESPONSE_NODE, ERROR_NODE) if name in top]
    if len(names) != 1:
        raise PlatformUnavailable("bad_response", "alipay: no single response node")
    content = bytes(top[names[0]])
    if "sign" not in top:
        raise _bad_signature("unsigned response")
    try:
        signature = base64.b64decode(_SIGN.decode(bytes(top["sign"])), validate=True)
        alipay_key.verify(signature, content, padding.PKCS1v15(), hashes.SHA256())
    except (msgspec.DecodeError, msgspec.ValidationError, binascii.Error, ValueError, InvalidSignature) as exc:
        raise _bad_signature("signature does not verify") from exc
    return names[0], content


def parse(body: bytes, alipay_key: rsa.RSAPublicKey) -> PlatformIdentity:
    """The identity in a signed `alipay.system.oauth.token` answer, or the mapped error."""
    name, content = signed_node(body, alipay_key)
    try:
        if name == ERROR_NODE:
            raise _mapped_error(_ERROR.decode(content))
        token = _TOKEN.decode(content)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise PlatformUnavailable("bad_response", "alipay") from exc
    open_id = token.open_id or token.user_id
    if not open_id:
        raise PlatformUnavailable("bad_response", "alipay: no user_id or open_id")
    return PlatformIdentity(platform="alipay", open_id=open_id)


class AlipayPlatform:
    def __init__(self, settings: AlipaySettings, client: httpx.AsyncClient, clock: Clock, *, timeout_ms: int) -> None:
        key = serialization.load_pem_private_key(settings.private_key_pem.encode(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("HAOBAN_ALIPAY_PRIVATE_KEY must be an RSA private key (RSA2)")
        alipay_key = serialization.load_pem_public_key(settings.alipay_public_key_pem.encode())
        if not isinstance(alipay_key, rsa.RSAPublicKey):
            raise ValueError("HAOBAN_ALIPAY_PUBLIC_KEY must be Alipay's RSA public key (RSA2)")
        self._key = key
        self._alipay_key = alipay_key
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
        return parse(response.content, self._alipay_key)
