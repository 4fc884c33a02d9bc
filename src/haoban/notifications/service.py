"""The notifications slice's public surface: other slices go through here, never its repository."""

from __future__ import annotations

from haoban.notifications.repository import SandboxMessage, for_recipient, insert, insert_many

__all__ = ["SandboxMessage", "for_recipient", "insert", "insert_many"]
