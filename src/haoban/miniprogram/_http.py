"""What the WeChat and Alipay adapters share: one request within a deadline, failures mapped."""

from __future__ import annotations

import asyncio
import logging

import httpx

from haoban.miniprogram.ports import PlatformUnavailable

log = logging.getLogger("haoban.miniprogram")


async def send(client: httpx.AsyncClient, request: httpx.Request, timeout_s: float, platform: str) -> httpx.Response:
    """One attempt (login codes are single use, so a retry could only fail), never longer than `timeout_s`."""
    try:
        async with asyncio.timeout(timeout_s):
            response = await client.send(request)
    except (TimeoutError, httpx.TimeoutException) as exc:
        log.warning("mini-program platform %s timeout", platform, extra={"platform": platform, "reason": "timeout"})
        raise PlatformUnavailable("timeout", platform) from exc
    except httpx.HTTPError as exc:
        log.warning("mini-program platform %s unreachable", platform, extra={"platform": platform})
        raise PlatformUnavailable("http_error", type(exc).__name__) from exc
    if response.status_code >= 500:
        raise PlatformUnavailable("busy", f"status {response.status_code}")
    if response.status_code != 200:
        raise PlatformUnavailable("http_error", f"status {response.status_code}")
    return response
