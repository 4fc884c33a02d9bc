"""The citizen's notification inbox: one notification per status change of an application."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec


class Notification(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    reference: str
    application_id: UUID | None
    status: str
    title_zh: str
    title_en: str
    body_zh: str
    body_en: str
    created_at: datetime
    delivered_at: datetime | None


class Undelivered(msgspec.Struct, frozen=True, kw_only=True):
    reference: str
    citizen_id: UUID
    title_zh: str
    body_zh: str
