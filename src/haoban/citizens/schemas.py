from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec


class Citizen(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    status: str
    created_at: datetime


class SessionView(msgspec.Struct, frozen=True, kw_only=True):
    client_id: str
    scope: str
    acr: str
    amr: list[str]
    auth_time: datetime


class Me(msgspec.Struct, frozen=True, kw_only=True):
    """The signed-in citizen: an opaque id, never the ID number."""

    citizen_id: UUID
    status: str
    created_at: datetime
    id_number_masked: str | None
    face_enrolled: bool
    session: SessionView
