"""A setting kept in the database, read at most every `ttl_s` per reader, and at once after this process
changed it (the sandbox's fault knobs: other worker processes see a change within `ttl_s`)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class ChangeCounter:
    """Counts the changes this process made to one kind of setting."""

    def __init__(self) -> None:
        self.count = 0

    def bump(self) -> None:
        self.count += 1


class Refreshed(Generic[T]):
    def __init__(self, ttl_s: float, changes: ChangeCounter) -> None:
        self._ttl_s, self._changes = ttl_s, changes
        self._seen: tuple[float, int, T] | None = None

    @property
    def last(self) -> T | None:
        """The value read last, if any."""
        return None if self._seen is None else self._seen[2]

    async def get(self, read: Callable[[], Awaitable[T]]) -> T:
        now, seen, changes = time.monotonic(), self._seen, self._changes.count
        if seen is not None and now - seen[0] < self._ttl_s and seen[1] == changes:
            return seen[2]
        value = await read()
        self._seen = (now, changes, value)
        return value
