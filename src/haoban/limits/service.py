"""The rate limiter every slice uses: `await runtime.limiter.hit(runtime.pool, scope=..., key=..., rules=..., now=...)`.

Counters live in PostgreSQL (one atomic statement per hit), so a limit holds across
replicas. Keys are keyed hashes: no phone number, ID number or address is stored.
Pass the pool, not the request's connection: a hit must stay counted when the
request that made it fails and rolls back.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import asyncpg
import msgspec

from haoban.kit.crypto import keyed_hash
from haoban.kit.errors import TooManyRequests
from haoban.limits import repository as repo
from haoban.limits.rules import Backoff, Window, check_rules, retry_after, schedule, window_start

Executor = asyncpg.Pool | asyncpg.Connection
# A failure streak is forgotten a day after its last attempt, once no lock holds.
STREAK_MEMORY = timedelta(days=1)


class RateLimited(TooManyRequests):
    code = "rate_limited"


class Verdict(msgspec.Struct, frozen=True, kw_only=True):
    allowed: bool
    retry_after_s: int = 0


def refusal(retry_after_s: int, detail: str | None = None) -> RateLimited:
    return RateLimited(
        detail or f"Too many requests; try again in {retry_after_s} s.",
        headers={"Retry-After": str(retry_after_s)},
        extra={"retry_after_s": retry_after_s},
    )


class Limiter:
    """Fixed-window counts and failure streaks, keyed by HMAC(secret, scope, value)."""

    def __init__(self, secret: bytes, *, scale: int = 1) -> None:
        self._secret = keyed_hash(secret, "haoban.limits.v1")
        self._scale = scale  # HAOBAN_LIMITS_SCALE: load benches only (sandbox)

    def _scaled(self, rules: Sequence[Window]) -> Sequence[Window]:
        check_rules(rules)
        return rules if self._scale == 1 else [Window(w.seconds, w.limit * self._scale) for w in rules]

    def key(self, scope: str, value: str) -> bytes:
        return keyed_hash(self._secret, f"{scope}\x1f{value}")

    async def count(self, db: Executor, *, scope: str, key: str, rules: Sequence[Window], now: datetime) -> Verdict:
        """Count one hit; the verdict says whether it was within every window.

        A refused hit is taken back at once, so only allowed hits use up the windows: a
        double tap does not cost the hour's budget. Between the two statements a
        concurrent hit may see the extra count and be refused too, never allowed.
        """
        rules = self._scaled(rules)
        starts = [window_start(now, w.seconds) for w in rules]
        hashed, seconds = self.key(scope, key), [w.seconds for w in rules]
        counts = await repo.hit(
            db,
            scope=scope,
            key=hashed,
            seconds=seconds,
            starts=starts,
            expires=[s + timedelta(seconds=w.seconds) for s, w in zip(starts, rules, strict=True)],
        )
        wait = retry_after(rules, counts, now)
        if wait is None:
            return Verdict(allowed=True)
        await repo.unhit(db, scope=scope, key=hashed, seconds=seconds, starts=starts)
        return Verdict(allowed=False, retry_after_s=wait)

    async def hit(
        self, db: Executor, *, scope: str, key: str, rules: Sequence[Window], now: datetime, detail: str | None = None
    ) -> None:
        """Count one hit; raise `RateLimited` (429 with Retry-After) when a window is over its limit."""
        verdict = await self.count(db, scope=scope, key=key, rules=rules, now=now)
        if not verdict.allowed:
            raise refusal(verdict.retry_after_s, detail)

    async def check(
        self, db: Executor, *, scope: str, key: str, rules: Sequence[Window], now: datetime, detail: str | None = None
    ) -> None:
        """Raise `RateLimited` when a window is already full, without counting a hit.

        For limits on outcomes (unusable frames): check before the work, `hit` after a bad outcome.
        """
        rules = self._scaled(rules)
        starts = [window_start(now, w.seconds) for w in rules]
        counts = await repo.counts(
            db, scope=scope, key=self.key(scope, key), seconds=[w.seconds for w in rules], starts=starts
        )
        # Full means the next hit would be over: compare as if it were counted.
        wait = retry_after(rules, {s: c + 1 for s, c in counts.items()}, now)
        if wait is not None:
            raise refusal(wait, detail)

    async def attempt(
        self, db: Executor, *, scope: str, key: str, backoff: Backoff, now: datetime, detail: str | None = None
    ) -> int:
        """Count an attempt of a failure streak, before its outcome; raise `RateLimited` while it is locked.

        Call `succeeded` after a success. Returns the streak's length including this attempt.
        """
        row = await repo.attempt(
            db, scope=scope, key=self.key(scope, key), now=now, after=backoff.after, delays=schedule(backoff)
        )
        if row is None:
            raise refusal(1, detail)
        if not row.allowed:
            wait = 1 if row.locked_until is None else max(1, int((row.locked_until - now).total_seconds() + 0.999))
            raise refusal(wait, detail)
        return row.failures

    async def succeeded(self, db: Executor, *, scope: str, key: str) -> None:
        """End the streak: the next failure starts from one again."""
        await repo.clear_streak(db, scope=scope, key=self.key(scope, key))


async def prune(conn: asyncpg.Connection, now: datetime) -> int:
    """Housekeeping: drop ended windows and forgotten streaks; returns the rows removed."""
    return await repo.prune(conn, now, now - STREAK_MEMORY)
