"""The mini-program platform port: a login code in, the platform's user identity out.

Adapters: `sandbox.py` (codes minted by testers), `wechat.py` (`jscode2session`),
`alipay.py` (`alipay.system.oauth.token`). They raise `CodeRejected` when the
platform says the code is not valid, and `PlatformUnavailable` for anything that
is not an answer; the service maps both to problems.
"""

from __future__ import annotations

from typing import Literal, Protocol

import msgspec

Platform = Literal["wechat", "alipay"]
PLATFORMS: tuple[Platform, ...] = ("wechat", "alipay")


class PlatformIdentity(msgspec.Struct, frozen=True, kw_only=True):
    """Who the platform says the mini-program user is. Never a verified real name."""

    platform: Platform
    open_id: str
    union_id: str | None = None


class CodeRejected(Exception):
    """The platform answered: this code is invalid, expired or already used."""


class PlatformUnavailable(Exception):
    """The platform did not answer usably.

    `reason` is a stable code: timeout, http_error, bad_response (-> 502),
    busy (-> 503), platform_error (-> 502).
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class MiniProgramPlatform(Protocol):
    async def exchange(self, code: str) -> PlatformIdentity: ...
