"""WeChat mini-program login: `GET /sns/jscode2session` (code2Session).

    GET https://api.weixin.qq.com/sns/jscode2session
        ?appid=…&secret=…&js_code=…&grant_type=authorization_code
    200 {"openid": "…", "session_key": "…", "unionid": "…"?}
    200 {"errcode": 40029, "errmsg": "invalid code"}

WeChat answers errors with HTTP 200 and an `errcode`. Mapped: 40029 (invalid
code) and 40163 (code been used) -> `CodeRejected`; -1 (system busy) and 45011
(rate limit) -> `PlatformUnavailable("busy")` (503); anything else, such as a
wrong appid or secret, or a body we cannot read -> `PlatformUnavailable`
(`platform_error` / `bad_response`, 502). The session key is dropped: Haoban
never decrypts mini-program data with it.
"""

from __future__ import annotations

import httpx
import msgspec

from haoban.miniprogram._http import send
from haoban.miniprogram.ports import CodeRejected, PlatformIdentity, PlatformUnavailable
from haoban.miniprogram.settings import WeChatSettings

CODE_ERRORS = frozenset({40029, 40163})
BUSY_ERRORS = frozenset({-1, 45011})


class _Answer(msgspec.Struct, frozen=True, kw_only=True):
    openid: str | None = None
    unionid: str | None = None
    errcode: int = 0
    errmsg: str = ""


_DECODER = msgspec.json.Decoder(_Answer)


def parse(body: bytes) -> PlatformIdentity:
    """The identity in a jscode2session answer, or the mapped error."""
    try:
        answer = _DECODER.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise PlatformUnavailable("bad_response", "wechat") from exc
    if answer.errcode in CODE_ERRORS:
        raise CodeRejected(f"wechat {answer.errcode}")
    if answer.errcode in BUSY_ERRORS:
        raise PlatformUnavailable("busy", f"wechat {answer.errcode}")
    if answer.errcode != 0:
        raise PlatformUnavailable("platform_error", f"wechat {answer.errcode} {answer.errmsg}"[:200])
    if not answer.openid:
        raise PlatformUnavailable("bad_response", "wechat: no openid")
    return PlatformIdentity(platform="wechat", open_id=answer.openid, union_id=answer.unionid or None)


class WeChatPlatform:
    def __init__(self, settings: WeChatSettings, client: httpx.AsyncClient, *, timeout_ms: int) -> None:
        self._settings = settings
        self._client = client
        self._timeout_s = timeout_ms / 1000

    async def exchange(self, code: str) -> PlatformIdentity:
        params = {
            "appid": self._settings.appid,
            "secret": self._settings.secret,
            "js_code": code,
            "grant_type": "authorization_code",
        }
        request = self._client.build_request(
            "GET", self._settings.url, params=params, headers={"Accept": "application/json"}, timeout=self._timeout_s
        )
        response = await send(self._client, request, self._timeout_s, "wechat")
        return parse(response.content)
