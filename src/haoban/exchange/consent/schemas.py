"""Wire types of the exchange: consents, linked data, the access log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

from haoban.exchange.sources.records import SourceName

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


class LinkedItem(msgspec.Struct, frozen=True, kw_only=True):
    """Either `{value, source, trust_level, last_updated}` — `value` is null or [] when the source has no
    record — or `{unavailable: true, reason}` when the source could not be asked. Never both."""

    value: Any | UnsetType = UNSET
    source: SourceName | UnsetType = UNSET
    trust_level: TrustLevel | UnsetType = UNSET
    last_updated: datetime | UnsetType | None = UNSET
    unavailable: bool | UnsetType = UNSET
    reason: str | UnsetType = UNSET


def linked_value(
    value: Any, *, source: SourceName, trust_level: TrustLevel, last_updated: datetime | None
) -> LinkedItem:
    return LinkedItem(value=value, source=source, trust_level=trust_level, last_updated=last_updated)


def unavailable_value(reason: str) -> LinkedItem:
    return LinkedItem(unavailable=True, reason=reason)


class SourceData(msgspec.Struct, frozen=True, kw_only=True):
    source: SourceName
    agency: str
    status: Literal["ok", "no_record", "unavailable"]
    system: str | None
    items: dict[str, LinkedItem]


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
