"""Wire types of materials, signed letters and the tolerant-acceptance notice."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

MaterialCode = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")]
Version = Annotated[str, msgspec.Meta(min_length=1, max_length=32)]


class Material(msgspec.Struct, frozen=True, kw_only=True):
    """Metadata of one upload; the file itself is never sent back on this API."""

    material_id: UUID
    code: str
    content_type: str
    size_bytes: int
    sha256: str
    trust_level: str
    uploaded_at: datetime


class Uploaded(msgspec.Struct, frozen=True, kw_only=True):
    material: Material
    application_status: str


class ChecklistItem(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    name_zh: str
    name_en: str
    primary: bool
    how_zh: str
    how_en: str
    supplied: bool


class MissingItem(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    name_zh: str
    name_en: str
    how_zh: str
    how_en: str


class Notice(msgspec.Struct, frozen=True, kw_only=True):
    """容缺受理通知书: issued once, lists every missing item, how to supply it and the deadline."""

    notice_id: UUID
    application_id: UUID
    missing: list[MissingItem]
    deadline: date
    deadline_at: datetime
    text_zh: str
    text_en: str
    issued_at: datetime
    status: Literal["open", "fulfilled", "expired"]


class Signature(msgspec.Struct, frozen=True, kw_only=True):
    kind: Literal["authorization", "tolerant"]
    version: str
    text_sha256: str
    consent_id: UUID | None
    signed_at: datetime


class MaterialsStatus(msgspec.Struct, frozen=True, kw_only=True):
    application_id: UUID
    status: str
    checklist: list[ChecklistItem]
    materials: list[Material]
    signatures: list[Signature]
    notice: Notice | None


class AcceptanceCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Sign the one authorization and commitment letter (and, to accept with secondary materials
    missing, the tolerant-acceptance commitment), then ask for the application to be accepted."""

    authorization_version: Version
    tolerant_commitment_version: Version | None = None


class Acceptance(msgspec.Struct, frozen=True, kw_only=True):
    application_id: UUID
    status: str
    accepted: Literal["complete", "tolerant"]
    notice: Notice | None


class Letter(msgspec.Struct, frozen=True, kw_only=True):
    kind: Literal["authorization", "tolerant"]
    version: str
    text_zh: str
    text_en: str
    text_sha256: str


class LetterList(msgspec.Struct, frozen=True, kw_only=True):
    letters: list[Letter]


class ExpiryReport(msgspec.Struct, frozen=True, kw_only=True):
    rejected: list[UUID]
