"""A small circuit breaker, so a dead source costs one fast refusal and not a timeout per call.

closed --(N consecutive failures)--> open --(reset elapsed)--> half-open: one
trial call is let through; its success closes the breaker, its failure opens it
again for another reset period. Pure state over an injected clock: no I/O, no
locks (one event loop), so tests move time instead of sleeping.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from haoban.kit.clock import Clock

State = Literal["closed", "open", "half_open"]


class CircuitBreaker:
    """Counts consecutive failures of one source; `allow()` before a call, `record_*` after it."""

    def __init__(self, *, failures: int, reset_s: float, clock: Clock) -> None:
        if failures < 1:
            raise ValueError("failures must be at least 1")
        if reset_s <= 0:
            raise ValueError("reset_s must be positive")
        self._threshold = failures
        self._reset = timedelta(seconds=reset_s)
        self._clock = clock
        self._failures = 0
        self._opened_at: datetime | None = None
        self._trial_started: datetime | None = None

    @property
    def state(self) -> State:
        if self._opened_at is None:
            return "closed"
        if self._trial_started is not None or self._clock.now() - self._opened_at >= self._reset:
            return "half_open"
        return "open"

    def allow(self) -> bool:
        """May a call go out now? In half-open, only one trial at a time.

        A trial that never reports back (its caller was cancelled) is given up
        after another reset period, so the breaker cannot stay stuck half-open.
        """
        if self._opened_at is None:
            return True
        now = self._clock.now()
        if now - self._opened_at < self._reset:
            return False
        if self._trial_started is not None and now - self._trial_started < self._reset:
            return False
        self._trial_started = now
        return True

    def record_success(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._trial_started = None

    def record_failure(self) -> None:
        self._failures += 1
        if self._trial_started is not None or self._failures >= self._threshold:
            self._opened_at = self._clock.now()
            self._trial_started = None
