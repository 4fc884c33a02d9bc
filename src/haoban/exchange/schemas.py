"""Wire types of the exchange: consents, linked data, the access log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec

from haoban.exchange.records import SourceName

PurposeKind = Literal["self_view", "service", "application"]
TrustLevel = Literal["A", "B", "C", "D"]
ItemName = Annotated[
    str,
    msgspec.Meta(pattern=r"^[a-z_]+\.([a-z_]+|\*)$", max_length=64, examples=["housing_fund.balance_fen"]),
]


class Purpose(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Why data is pulled: the citizen viewing it, a service (by code) or one application (by id)."""

    kind: PurposeKind
    ref: Annotated[str, msgspec.Meta(max_length=64, pattern=r"^[A-Za-z0-9_.:-]*$")] = ""


class ConsentCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    purpose: Purpose
    items: Annotated[list[ItemName], msgspec.Meta(min_length=1, max_length=64)]
    terms_version: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    expires_at: datetime | None = None


class Consent(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    purpose: Purpose
    items: list[str]
    terms_version: str
    granted_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    status: Literal["active", "expired", "revoked"]


class ConsentList(msgspec.Struct, frozen=True, kw_only=True):
    consents: list[Consent]


class LinkedValue(msgspec.Struct, frozen=True, kw_only=True):
    """A value with where it came from. `value` is null or [] when the source has no record."""

    value: Any
    source: SourceName
    trust_level: TrustLevel
    last_updated: datetime | None


class UnavailableValue(msgspec.Struct, frozen=True, kw_only=True):
    """The source could not be asked; says why. Never confused with "no record"."""

    unavailable: bool
    reason: str


class SourceData(msgspec.Struct, frozen=True, kw_only=True):
    source: SourceName
    agency: str
    status: Literal["ok", "no_record", "unavailable"]
    system: str | None
    items: dict[str, LinkedValue | UnavailableValue]


class LinkedData(msgspec.Struct, frozen=True, kw_only=True):
    citizen_id: UUID
    purpose: Purpose
    fetched_at: datetime
    sources: list[SourceData]


class Requester(msgspec.Struct, frozen=True, kw_only=True):
    type: str
    id: str


class AccessLogEntry(msgspec.Struct, frozen=True, kw_only=True):
    seq: int
    at: datetime
    requester: Requester
    purpose: Purpose
    source: SourceName
    items: list[str]
    outcome: Literal["ok", "no_record", "unavailable"]


class AccessLogPage(msgspec.Struct, frozen=True, kw_only=True):
    entries: list[AccessLogEntry]
    next_before: int | None
