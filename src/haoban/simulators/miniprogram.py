"""The sandbox platform: testers mint login codes at `POST /sandbox/miniprogram/{platform}/codes`.

Like the real platforms, a code lives five minutes and is used once. The codes
live in a table of their own and are spent in their own transaction (the real
platform is another system). Only an HMAC of each code is kept.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

import asyncpg

from haoban.kit.clock import Clock
from haoban.kit.crypto import keyed_hash
from haoban.miniprogram.ports import CodeRejected, Platform, PlatformIdentity, PlatformUnavailable
from haoban.simulators import miniprogram_repository as repo

CODE_TTL = timedelta(minutes=5)


class SandboxPlatform:
    def __init__(self, platform: Platform, pool: asyncpg.Pool, clock: Clock, hmac_key: bytes) -> None:
        self.platform: Platform = platform
        self._pool = pool
        self._clock = clock
        self._key = hmac_key

    def _hmac(self, code: str) -> bytes:
        return keyed_hash(self._key, f"sandbox-miniprogram-code:{code}")

    async def mint(self, open_id: str, union_id: str | None) -> tuple[str, PlatformIdentity]:
        code = secrets.token_urlsafe(24)
        identity = PlatformIdentity(platform=self.platform, open_id=open_id, union_id=union_id)
        now = self._clock.now()
        await repo.insert_sandbox_code(
            self._pool, code_hmac=self._hmac(code), identity=identity, created_at=now, expires_at=now + CODE_TTL
        )
        return code, identity

    async def exchange(self, code: str) -> PlatformIdentity:
        try:
            identity = await repo.spend_sandbox_code(
                self._pool, code_hmac=self._hmac(code), platform=self.platform, now=self._clock.now()
            )
        except (asyncpg.PostgresError, OSError) as exc:
            raise PlatformUnavailable("http_error", type(exc).__name__) from exc
        if identity is None:
            raise CodeRejected("unknown, used or expired sandbox code")
        return identity
