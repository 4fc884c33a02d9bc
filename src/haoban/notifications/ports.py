"""Sending a message to a citizen (SMS, app push): a port with a sandbox channel."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import msgspec


class NotifierUnavailable(Exception):
    """The channel did not accept the message."""


class Message(msgspec.Struct, frozen=True, kw_only=True):
    channel: str
    recipient: str
    body: str


class Notifier(Protocol):
    async def send(self, *, channel: str, recipient: str, body: str) -> None: ...

    async def send_many(self, messages: Sequence[Message]) -> None:
        """All or nothing as far as the caller knows: on an error every message may be sent again."""
        ...
