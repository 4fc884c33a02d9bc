"""The notifications slice's public surface: other slices go through here, never its repository."""

from __future__ import annotations

from haoban.notifications.repository import (
    ROW_COLUMNS,
    SandboxMessage,
    add_rows,
    for_recipient,
    insert,
    insert_many,
    insert_notification,
    mark_delivered_many,
    notifications_page,
    undelivered,
)
from haoban.notifications.schemas import Notification, Undelivered

__all__ = [
    "ROW_COLUMNS",
    "Notification",
    "SandboxMessage",
    "Undelivered",
    "add_rows",
    "for_recipient",
    "insert",
    "insert_many",
    "insert_notification",
    "mark_delivered_many",
    "notifications_page",
    "undelivered",
]
