"""Wire and row types of face-verified identity."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec

from haoban.kit.idnumber import IdNumberShape
from haoban.tokens.schemas import SessionGrant, TokenPair

Purpose = Literal["register", "login", "step_up"]
# A frame is base64 of a JPEG or PNG of at most 1 MB (base64 adds a third).
FrameB64 = Annotated[str, msgspec.Meta(min_length=16, max_length=1_400_000)]
Frames = Annotated[list[FrameB64], msgspec.Meta(min_length=1, max_length=10)]
AttestationJws = Annotated[str, msgspec.Meta(max_length=8192)]
Phone = Annotated[str, msgspec.Meta(pattern=r"^1[3-9]\d{9}$", examples=["13812345678"])]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
# From `POST /v1/auth/miniprogram/{platform}`: a successful verification binds that platform account.
BindingTicket = Annotated[
    str,
    msgspec.Meta(
        min_length=20,
        max_length=100,
        pattern=r"^hbm_[A-Za-z0-9_-]+$",
        description="A mini-program binding ticket followed by the device's verifier (docs/miniprogram.md)",
    ),
]


class ChallengeCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    id_number: IdNumberShape
    purpose: Purpose


class Challenge(msgspec.Struct, frozen=True, kw_only=True):
    challenge_id: UUID
    nonce: str
    expires_at: datetime
    min_frames: int
    max_frames: int


class BiometricConsent(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    biometric: bool
    terms_version: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]


class RegisterRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    challenge_id: UUID
    id_number: IdNumberShape
    name: Name
    phone: Phone | None = None
    frames: Frames
    consent: BiometricConsent
    attestation: AttestationJws | None = None
    binding_ticket: BindingTicket | None = None


class FaceLoginRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    challenge_id: UUID
    id_number: IdNumberShape
    frames: Frames
    attestation: AttestationJws | None = None
    binding_ticket: BindingTicket | None = None


class StepUpRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    challenge_id: UUID
    frames: Frames
    attestation: AttestationJws | None = None


class AuthTokens(msgspec.Struct, frozen=True, kw_only=True):
    citizen_id: UUID
    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int
    acr: str
    refresh_token_expires_at: datetime


def auth_tokens(grant: SessionGrant, pair: TokenPair) -> AuthTokens:
    """What a sign-in answers: the pair tokens issued for `grant` (face, code or mini-program login)."""
    return AuthTokens(
        citizen_id=grant.citizen_id,
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        token_type=pair.token_type,
        expires_in=pair.expires_in,
        acr=grant.acr,
        refresh_token_expires_at=pair.refresh_token_expires_at,
    )


class OtpStart(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    id_number: IdNumberShape


class OtpStarted(msgspec.Struct, frozen=True, kw_only=True):
    request_id: UUID
    expires_at: datetime


class OtpVerify(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    request_id: UUID
    code: Annotated[str, msgspec.Meta(pattern=r"^\d{6}$")]


class PhoneChangeStart(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    phone: Phone


class PhoneChangeStarted(msgspec.Struct, frozen=True, kw_only=True):
    request_id: UUID
    expires_at: datetime
    phone_masked: str


class PhoneChangeConfirm(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    request_id: UUID
    code: Annotated[str, msgspec.Meta(pattern=r"^\d{6}$")]


class PhoneChanged(msgspec.Struct, frozen=True, kw_only=True):
    phone_masked: str
    changed_at: datetime


class ReenrolmentAllowed(msgspec.Struct, frozen=True, kw_only=True):
    """The next registration of this identity before `expires_at` may replace the enrolled face."""

    expires_at: datetime


class SandboxTokenRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    id_number: IdNumberShape
    # "face": the face level that applications and payouts ask for, marked amr ["face", "sandbox"].
    acr: Literal["sandbox", "face"] = "sandbox"


class AppClientCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    client_id: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9._-]{2,63}$")]
    name: Name
    attestation: Literal["required", "optional"]
    attestation_jwk: dict[str, Any] | None = None


# --- rows -------------------------------------------------------------------


class AppClient(msgspec.Struct, frozen=True, kw_only=True):
    client_id: str
    name: str
    attestation: str
    attestation_jwk: dict[str, Any] | None


class ChallengeRow(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    nonce: str
    id_number_hmac: bytes
    purpose: str
    client_id: str
    expires_at: datetime
    used_at: datetime | None


class OtpRow(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    purpose: str
    citizen_id: UUID | None
    id_number_hmac: bytes | None
    code_hmac: bytes
    expires_at: datetime
    attempts: int
    used_at: datetime | None
    new_phone_enc: str | None
