"""Wire and domain types for tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec

SANDBOX_AMR = "sandbox"
"""The amr of every token the sandbox mints without a real sign-in; refused when the sandbox is off."""

RefreshTokenStr = Annotated[str, msgspec.Meta(min_length=20, max_length=200, pattern=r"^hbr_[A-Za-z0-9_-]+$")]


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """The verified caller of a request."""

    citizen_id: UUID
    client_id: str
    scope: tuple[str, ...]
    acr: str
    amr: tuple[str, ...]
    auth_time: datetime
    session_id: UUID
    token_id: str


class SessionGrant(msgspec.Struct, frozen=True, kw_only=True):
    """What a successful sign-in grants: who, for which client, how verified."""

    citizen_id: UUID
    client_id: str
    scope: tuple[str, ...]
    acr: str
    amr: tuple[str, ...]
    auth_time: datetime


class TokenPair(msgspec.Struct, frozen=True, kw_only=True):
    access_token: str
    token_type: str
    expires_in: int
    refresh_token: str
    refresh_token_expires_at: datetime
    scope: str


class RefreshRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    refresh_token: RefreshTokenStr


class Jwks(msgspec.Struct, frozen=True, kw_only=True):
    keys: list[dict[str, Any]]


class SigningKey(msgspec.Struct, frozen=True, kw_only=True):
    kid: str
    status: str
    private_key_enc: str
    public_jwk: dict[str, Any]
    created_at: datetime
    retire_after: datetime | None


class Family(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    citizen_id: UUID
    client_id: str
    scope: str
    acr: str
    amr: list[str]
    auth_time: datetime
    expires_at: datetime
    revoked_at: datetime | None


class RefreshRow(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    family_id: UUID
    used_at: datetime | None


class SessionBinding(msgspec.Struct, frozen=True, kw_only=True):
    """What a live session says about its tokens: whose, which client, and how they signed in."""

    citizen_id: UUID
    client_id: str
    acr: str
    amr: list[str]
    auth_time: datetime
