"""Wire and domain types of staff accounts and the manual lane."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec

Role = Literal["reviewer", "supervisor"]
ROLES: tuple[Role, ...] = ("reviewer", "supervisor")

# Department codes staff can belong to (the catalog names the same ones).
DEPARTMENTS: dict[str, tuple[str, str]] = {
    "housing_security": ("住房保障局", "Housing security bureau"),
    "hpf": ("住房公积金管理中心", "Housing provident fund centre"),
}

Username = Annotated[str, msgspec.Meta(min_length=3, max_length=64)]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
USERNAME_PATTERN = r"^[a-z][a-z0-9._-]{2,63}$"


class StaffLogin(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    username: Username
    password: Password


class Grant(msgspec.Struct, frozen=True, kw_only=True):
    department: str
    role: Role


class StaffProfile(msgspec.Struct, frozen=True, kw_only=True):
    staff_id: UUID
    username: str
    display_name: str
    roles: list[Grant]


class StaffToken(msgspec.Struct, frozen=True, kw_only=True):
    access_token: str
    token_type: str
    expires_in: int
    staff: StaffProfile


class StaffAccount(msgspec.Struct, frozen=True, kw_only=True):
    """The staff_accounts row with its roles (domain, not wire)."""

    id: UUID
    username: str
    display_name: str
    password_hash: str
    citizen_id: UUID | None
    id_number_hmac: bytes | None
    disabled_at: datetime | None
    roles: tuple[Grant, ...]


class StaffPrincipal(msgspec.Struct, frozen=True, kw_only=True):
    """The verified staff caller of a request."""

    staff_id: UUID
    username: str
    citizen_id: UUID | None
    id_number_hmac: bytes | None
    roles: tuple[Grant, ...]
    token_id: str

    @property
    def departments(self) -> list[str]:
        return sorted({g.department for g in self.roles})


class QueueItem(msgspec.Struct, frozen=True, kw_only=True):
    """Least data: a masked name, never an ID number."""

    application_id: UUID
    service_code: str
    department: str
    status: str
    applicant: str
    submitted_at: datetime
    updated_at: datetime


class QueuePage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[QueueItem]
    next_after: str | None


class DecisionCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    decision: Literal["approve", "reject"]
    reason: Annotated[str, msgspec.Meta(min_length=2, max_length=500)]


class DecisionResult(msgspec.Struct, frozen=True, kw_only=True):
    application_id: UUID
    status: str
    decision: Literal["approve", "reject"]
    reason: str
    decided_by: str
    decided_at: datetime


class MaterialMeta(msgspec.Struct, frozen=True, kw_only=True):
    material_id: UUID
    code: str
    content_type: str
    size_bytes: int
    sha256: str
    trust_level: str
    uploaded_at: datetime


class HistoryEntry(msgspec.Struct, frozen=True, kw_only=True):
    from_status: str | None
    to_status: str
    actor_type: str
    actor_id: str
    reason: str | None
    occurred_at: datetime


class StaffApplication(msgspec.Struct, frozen=True, kw_only=True):
    """What a reviewer sees: the application, its decision trace and facts with provenance, the materials."""

    application_id: UUID
    service_code: str
    department: str
    status: str
    status_reason: str | None
    applicant: str
    inputs: dict[str, Any]
    submitted_at: datetime
    updated_at: datetime
    decision: dict[str, Any] | None
    facts: dict[str, Any]
    materials: list[MaterialMeta]
    missing_materials: list[str]
    notice: dict[str, Any] | None
    history: list[HistoryEntry]
    # What approving would pay, from the rules' amount formula on the facts on record (fen); None when
    # the service pays nothing or the amount cannot be computed (then the reviewer can only reject).
    amount_fen: int | None = None
