"""Wire and row types of mini-program login."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from haoban.identity.schemas import AuthTokens
from haoban.miniprogram.ports import Platform

LoginCode = Annotated[str, msgspec.Meta(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._-]+$")]
BindingTicket = Annotated[str, msgspec.Meta(min_length=20, max_length=100, pattern=r"^hbm_[A-Za-z0-9_-]+$")]
# S256 of the mini-program's 43-character verifier (RFC 7636 §4.2 shape).
TicketChallenge = Annotated[str, msgspec.Meta(min_length=43, max_length=43, pattern=r"^[A-Za-z0-9_-]{43}$")]
OpenId = Annotated[str, msgspec.Meta(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._-]+$")]


class CodeExchange(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`ticket_challenge` = BASE64URL(SHA256(verifier)) for a fresh 43-character verifier
    (`[A-Za-z0-9_-]`) the mini-program keeps; a binding ticket is spent only with that verifier."""

    code: LoginCode
    ticket_challenge: TicketChallenge


class MiniProgramLogin(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """`signed_in`: tokens at the mini-program level (never a verified real name).
    `binding_required`: pass `binding_ticket` followed by the verifier of `ticket_challenge` as
    `binding_ticket` to face registration or face login (single use, 10 minutes).
    """

    outcome: Literal["signed_in", "binding_required"]
    tokens: AuthTokens | None = None
    binding_ticket: str | None = None
    expires_at: datetime | None = None


class SandboxCodeCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    open_id: OpenId
    union_id: OpenId | None = None


class SandboxCode(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    platform: Platform
    open_id: str
    union_id: str | None
    expires_at: datetime


# --- rows -------------------------------------------------------------------


class TicketRow(msgspec.Struct, frozen=True, kw_only=True):
    platform: Platform
    open_id: str
    union_id: str | None
    challenge: str | None  # None: a ticket from before tickets were tied to a device
    expires_at: datetime
    used_at: datetime | None


class BindingRow(msgspec.Struct, frozen=True, kw_only=True):
    platform: Platform
    open_id: str
    citizen_id: UUID
