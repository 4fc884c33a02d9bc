"""The sandbox channel: a phone that keeps what it receives, in a table of its own.

It writes in its own transaction (the real gateway is another system), after a
small latency, and testers read the messages at `GET /sandbox/messages`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import asyncpg

from haoban.kit.clock import Clock
from haoban.notifications import service as repo
from haoban.notifications.ports import Message, NotifierUnavailable


class SandboxNotifier:
    def __init__(self, pool: asyncpg.Pool, clock: Clock, *, latency_s: float = 0.005) -> None:
        self._pool = pool
        self._clock = clock
        self._latency_s = latency_s

    async def send(self, *, channel: str, recipient: str, body: str) -> None:
        await asyncio.sleep(self._latency_s)
        try:
            await repo.insert(self._pool, channel=channel, recipient=recipient, body=body, at=self._clock.now())
        except (asyncpg.PostgresError, OSError) as exc:
            raise NotifierUnavailable(type(exc).__name__) from exc

    async def send_many(self, messages: Sequence[Message]) -> None:
        """One latency and one multi-row INSERT for the whole batch."""
        if not messages:
            return
        await asyncio.sleep(self._latency_s)
        try:
            await repo.insert_many(self._pool, messages, at=self._clock.now())
        except (asyncpg.PostgresError, OSError) as exc:
            raise NotifierUnavailable(type(exc).__name__) from exc
