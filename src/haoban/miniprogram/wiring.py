"""Choose the platform adapters once, in the app's lifespan.

A platform configured by its environment variables gets its HTTP adapter; an
unconfigured one gets the sandbox adapter in sandbox mode and is absent (404)
otherwise.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import httpx

from haoban.kit.clock import Clock
from haoban.kit.tracing import traced_client
from haoban.miniprogram.alipay import AlipayPlatform
from haoban.miniprogram.ports import PLATFORMS, MiniProgramPlatform
from haoban.miniprogram.settings import MiniProgramSettings
from haoban.miniprogram.wechat import WeChatPlatform
from haoban.simulators.miniprogram import SandboxPlatform


@asynccontextmanager
async def open_platforms(
    settings: MiniProgramSettings, *, sandbox: bool, pool: asyncpg.Pool, clock: Clock, hmac_key: bytes
) -> AsyncIterator[dict[str, MiniProgramPlatform]]:
    platforms: dict[str, MiniProgramPlatform] = {}
    client: httpx.AsyncClient | None = None
    if settings.wechat is not None or settings.alipay is not None:
        client = traced_client(timeout=settings.timeout_ms / 1000, follow_redirects=False)
    try:
        if settings.wechat is not None and client is not None:
            platforms["wechat"] = WeChatPlatform(settings.wechat, client, timeout_ms=settings.timeout_ms)
        if settings.alipay is not None and client is not None:
            platforms["alipay"] = AlipayPlatform(settings.alipay, client, clock, timeout_ms=settings.timeout_ms)
        if sandbox:
            for platform in PLATFORMS:
                platforms.setdefault(platform, SandboxPlatform(platform, pool, clock, hmac_key))
        yield platforms
    finally:
        if client is not None:
            await client.aclose()
