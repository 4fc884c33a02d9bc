"""The policy of a limit, pure: fixed windows, their counts, and growing waits after failures.

A `Window(60, 1)` allows one hit per minute. Windows are aligned to the Unix epoch,
so every replica computes the same window for the same moment. A `Backoff` turns a
streak of consecutive failures into a growing wait.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import msgspec

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Window(msgspec.Struct, frozen=True):
    """At most `limit` hits in each aligned window of `seconds`."""

    seconds: int
    limit: int

    def __post_init__(self) -> None:
        if self.seconds <= 0 or self.limit <= 0:
            raise ValueError("a window needs a positive length and limit")


class Backoff(msgspec.Struct, frozen=True, kw_only=True):
    """After `after` consecutive failures wait `first_s`, then `factor` times longer per failure, up to `max_s`."""

    after: int
    first_s: int
    max_s: int
    factor: int = 2

    def __post_init__(self) -> None:
        if self.after < 1 or self.first_s < 1 or self.max_s < self.first_s or self.factor < 1:
            raise ValueError("a backoff needs after >= 1, 1 <= first_s <= max_s and factor >= 1")


def window_start(now: datetime, seconds: int) -> datetime:
    """The start of the aligned window of `seconds` that holds `now`."""
    elapsed = math.floor((now - EPOCH).total_seconds())
    return EPOCH + timedelta(seconds=elapsed - elapsed % seconds)


def check_rules(rules: Sequence[Window]) -> None:
    if not rules:
        raise ValueError("a limit needs at least one window")
    if len({w.seconds for w in rules}) != len(rules):
        raise ValueError("each window length may appear once in a limit")


def retry_after(rules: Sequence[Window], counts: dict[int, int], now: datetime) -> int | None:
    """Seconds until every window that is over its limit has ended; None when none is over.

    `counts` maps a window's length to its count including this hit.
    """
    waits = [
        (window_start(now, w.seconds) + timedelta(seconds=w.seconds) - now).total_seconds()
        for w in rules
        if counts.get(w.seconds, 0) > w.limit
    ]
    return max(1, math.ceil(max(waits))) if waits else None


def delay_s(backoff: Backoff, failures: int) -> int:
    """The wait after `failures` consecutive failures (0 before the streak reaches `after`)."""
    if failures < backoff.after:
        return 0
    wait = backoff.first_s
    for _ in range(failures - backoff.after):
        if wait >= backoff.max_s:
            break
        wait *= backoff.factor
    return min(backoff.max_s, wait)


def schedule(backoff: Backoff) -> list[int]:
    """`delay_s` for `after`, `after + 1`, ... failures until it stops growing; the last value holds after that."""
    out: list[int] = []
    failures = backoff.after
    while True:
        out.append(delay_s(backoff, failures))
        if out[-1] == backoff.max_s or backoff.factor == 1:
            return out
        failures += 1
