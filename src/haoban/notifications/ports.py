"""Sending a message to a citizen (SMS, app push): a port with a sandbox channel."""

from __future__ import annotations

from typing import Protocol


class NotifierUnavailable(Exception):
    """The channel did not accept the message."""


class Notifier(Protocol):
    async def send(self, *, channel: str, recipient: str, body: str) -> None: ...
