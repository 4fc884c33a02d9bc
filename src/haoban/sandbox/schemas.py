from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from haoban.kit.idnumber import IdNumberShape

Scope = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_.:-]{0,63}$")]
ALLOWED_SCOPES = ("openid", "profile", "identity.verified", "hpf.read", "applications.read", "applications.write")


class TestCitizenCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    citizen_id: UUID | None = None
    id_number: IdNumberShape | None = None


class TestCitizen(msgspec.Struct, frozen=True, kw_only=True):
    citizen_id: UUID
    created: bool


class TestTokenCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    scope: Annotated[list[Scope], msgspec.Meta(max_length=16)] = msgspec.field(default_factory=lambda: ["openid"])
    # "face": the face level that applications and payouts ask for, marked amr ["face", "sandbox"].
    acr: Literal["urn:haoban:loa:sandbox", "sandbox", "face"] = "urn:haoban:loa:sandbox"


class SourceFault(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How one exchange source misbehaves in the sandbox: a wait before each answer, a share of failures."""

    latency_ms: Annotated[int, msgspec.Meta(ge=0, le=60_000)] = 0
    failure_rate: Annotated[float, msgspec.Meta(ge=0, le=1)] = 0.0


class ClockSet(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How far ahead of the real time the sandbox clock runs (the whole setting; 0 puts it back)."""

    offset_s: Annotated[int, msgspec.Meta(ge=0, le=315_360_000)]


class SandboxClock(msgspec.Struct, frozen=True, kw_only=True):
    offset_s: int
    now: datetime
