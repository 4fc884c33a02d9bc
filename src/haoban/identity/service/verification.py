"""Face verification: challenges, one attempt end to end, references and tokens (the flows: accounts.py).

The order of checks is fixed and fails closed: the challenge, device
attestation, the identity's throttle, the unusable-frame limits (per source
address and per identity, never per app client), then the frames (decode, one face, size,
sharpness, same person, motion, replay), and only then the 1:1 match. Face work
runs before any transaction is opened, so no database connection waits on it.
Every way a verification can fail after the frames pass (unknown ID number,
wrong name, deceased or cancelled identity, no template, a face that does not
match) answers the same 401; the real reason goes to the audit log only.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal, Protocol
from uuid import UUID

import asyncpg
import msgspec
import numpy as np

from haoban.audit import service as audit
from haoban.audit.schemas import Actor
from haoban.citizens import service as citizens
from haoban.db.pool import unit_of_work
from haoban.exchange.sources.ports import SourceUnavailable
from haoban.identity import attestation, throttle
from haoban.identity import repository as repo
from haoban.identity.face.engine import Verification
from haoban.identity.face.errors import FaceError
from haoban.identity.face.features import Encoding, FrameHash, template_from_bytes
from haoban.identity.schemas import AppClientCreate, AuthTokens, Challenge, ChallengeCreate, ChallengeRow, auth_tokens
from haoban.identity.stepup import FACE_ACR
from haoban.kit import events
from haoban.kit.errors import AppError, FieldError, Unauthorized, ValidationFailed
from haoban.limits.rules import Window
from haoban.runtime import Runtime
from haoban.tokens.schemas import SessionGrant

CHALLENGE_TTL = timedelta(seconds=120)
REPLAY_WINDOW = timedelta(hours=24)
FIRST_PARTY_APP = "haoban-app"
FACE_MODEL = "dlib_face_recognition_resnet_model_v1"
FACE_SCOPE = ("openid", "profile")


class ChallengeInvalid(Unauthorized):
    code = "challenge_invalid"


class AttestationRefused(Unauthorized):
    code = "attestation_invalid"


class VerificationFailed(Unauthorized):
    code = "face_verification_failed"


class FaceLocked(AppError):
    status = 423
    code = "face_login_locked"


class UnknownClient(Unauthorized):
    code = "unknown_client"


class Attempt(msgspec.Struct, frozen=True, kw_only=True):
    """One face attempt as the route received it."""

    client_id: str
    challenge_id: UUID
    id_number: str
    purpose: Literal["register", "login", "step_up"]
    frames_b64: Sequence[str]
    attestation: str | None
    address: str  # the caller's source address (haoban.limits.http), for per-address limits


def template_aad(citizen_id: UUID) -> str:
    return f"face_templates:{citizen_id}"


def _uniform_failure() -> VerificationFailed:
    return VerificationFailed("The face verification did not succeed.")


async def create_challenge(
    conn: asyncpg.Connection, runtime: Runtime, client_id: str, data: ChallengeCreate, *, address: str
) -> Challenge:
    """Same answer whether or not the ID number exists; limited per source address and per identity."""
    now = runtime.clock.now()
    limiter, pool = runtime.limiter, runtime.pool
    await limiter.hit(pool, scope="face.challenge.address", key=address, rules=throttle.CHALLENGES_PER_ADDRESS, now=now)
    await limiter.hit(
        pool, scope="face.challenge.identity", key=data.id_number, rules=throttle.CHALLENGES_PER_IDENTITY, now=now
    )
    if await repo.get_client(conn, client_id) is None:
        raise UnknownClient("Unknown app client; send X-Client-ID.")
    challenge = Challenge(
        challenge_id=uuid.uuid4(),
        nonce=secrets.token_urlsafe(24),
        expires_at=now + CHALLENGE_TTL,
        min_frames=runtime.settings.face.min_frames,
        max_frames=runtime.settings.face.max_frames,
    )
    await repo.purge_challenges(conn, now - timedelta(hours=1))
    await repo.insert_challenge(
        conn,
        challenge_id=challenge.challenge_id,
        nonce=challenge.nonce,
        id_number_hmac=runtime.vault.index(data.id_number),
        purpose=data.purpose,
        client_id=client_id,
        created_at=now,
        expires_at=challenge.expires_at,
    )
    return challenge


def _challenge_ok(row: ChallengeRow | None, attempt: Attempt, index: bytes, now: datetime) -> bool:
    return (
        row is not None
        and row.used_at is None
        and row.expires_at > now
        and row.purpose == attempt.purpose
        and row.client_id == attempt.client_id
        and row.id_number_hmac == index
    )


def _decode_frames(frames_b64: Sequence[str]) -> list[bytes]:
    frames: list[bytes] = []
    for i, text in enumerate(frames_b64):
        try:
            frames.append(base64.b64decode(text, validate=True))
        except (binascii.Error, ValueError):
            raise ValidationFailed(errors=[FieldError(field=f"frames[{i}]", reason="not valid base64")]) from None
    return frames


async def _precheck(runtime: Runtime, attempt: Attempt, index: bytes) -> tuple[ChallengeRow, list[bytes]]:
    """Challenge, attestation and throttle, in that order, before any face work."""
    pool, now = runtime.pool, runtime.clock.now()
    row = await repo.get_challenge(pool, attempt.challenge_id)
    if row is None or not _challenge_ok(row, attempt, index, now):
        raise ChallengeInvalid("The challenge is unknown, used, expired or not for this request.")
    client = await repo.get_client(pool, attempt.client_id)
    frames = _decode_frames(attempt.frames_b64)
    if client is None:
        raise UnknownClient("Unknown app client.")
    if attempt.attestation is not None or attestation_required(runtime, client.client_id, client.attestation):
        if attempt.attestation is None or client.attestation_jwk is None:
            raise AttestationRefused("This app must send a device attestation.")
        try:
            attestation.verify(attempt.attestation, client.attestation_jwk, nonce=row.nonce, frames=frames, now=now)
        except attestation.AttestationInvalid:
            raise AttestationRefused("The device attestation is not valid for this capture.") from None
    verdict = throttle.check(await repo.read_throttle(pool, index), now)
    if not verdict.allowed:
        raise _locked(verdict)
    return row, frames


def attestation_required(runtime: Runtime, client_id: str, registered: str) -> bool:
    """The client's own setting, and for the first-party app the deployment's (required unless the demo relaxes it)."""
    first_party = client_id == FIRST_PARTY_APP and runtime.settings.security.app_attestation == "required"
    return registered == "required" or first_party


def _locked(verdict: throttle.Verdict) -> FaceLocked:
    if verdict.disabled:
        return FaceLocked("Face login is disabled for this identity; contact a service centre to re-enable it.")
    return FaceLocked(
        "Too many failed attempts; wait before trying again.",
        headers={"Retry-After": str(max(verdict.retry_after_s, 1))},
        extra={"retry_after_s": verdict.retry_after_s},
    )


_SLOW_DOWN = "Too many unusable frames; wait before trying again."


def _bad_frame_limits(attempt: Attempt) -> tuple[tuple[str, str, tuple[Window, ...]], ...]:
    return (
        ("face.bad_frames.address", attempt.address, throttle.BAD_FRAMES_PER_ADDRESS),
        ("face.bad_frames.identity", attempt.id_number, throttle.BAD_FRAMES_PER_IDENTITY),
    )


async def _run_engine(
    runtime: Runtime, attempt: Attempt, frames: list[bytes], reference: Encoding, index: bytes
) -> Verification:
    now, limiter, pool = runtime.clock.now(), runtime.limiter, runtime.pool
    seen = [FrameHash.from_bytes(h) for h in await repo.recent_frame_hashes(pool, index, now - REPLAY_WINDOW)]
    for scope, key, rules in _bad_frame_limits(attempt):
        await limiter.check(pool, scope=scope, key=key, rules=rules, now=now, detail=_SLOW_DOWN)
    try:
        return await runtime.face.verify(frames, reference, seen=seen)
    except FaceError:
        # Counted on the pool: the 422 that follows rolls nothing of it back.
        for scope, key, rules in _bad_frame_limits(attempt):
            await limiter.hit(pool, scope=scope, key=key, rules=rules, now=now, detail=_SLOW_DOWN)
        raise


class Reference(msgspec.Struct, frozen=True, kw_only=True):
    """What the frames are matched against, and why an attempt must fail whatever the face."""

    encoding: Encoding
    citizen_id: UUID | None
    refusal: str | None  # set: fail with the uniform answer, audit this reason


def _decoy() -> Encoding:
    # Far from any real face: the frames are still checked and encoded, so the
    # time and the answer do not tell an unknown ID number from a wrong face.
    return np.ones(128, dtype=np.float64)


async def registration_reference(runtime: Runtime, id_number: str, name: str) -> Reference:
    try:
        fetched = await runtime.sources.identity.lookup(id_number)
        record = fetched.record
        photo = await runtime.sources.identity.photo(id_number) if record is not None else None
    except SourceUnavailable as exc:
        raise AppError("The identity registry is unavailable; try again shortly.") from exc
    if record is None or photo is None:
        return Reference(encoding=_decoy(), citizen_id=None, refusal="identity_not_found")
    if record.name != name:
        return Reference(encoding=_decoy(), citizen_id=None, refusal="name_mismatch")
    if record.status != "normal":
        return Reference(encoding=_decoy(), citizen_id=None, refusal=f"identity_{record.status}")
    try:
        encoding = await runtime.face.reference(photo)
    except FaceError:
        return Reference(encoding=_decoy(), citizen_id=None, refusal="registry_photo_unusable")
    return Reference(encoding=encoding, citizen_id=None, refusal=None)


async def enrolled_reference(runtime: Runtime, index: bytes, expected: UUID | None = None) -> Reference:
    async with unit_of_work(runtime.pool) as conn:
        citizen_id = await citizens.find_by_id_number(conn, index)
        sealed = await repo.template_of(conn, citizen_id) if citizen_id is not None else None
    if citizen_id is None or (expected is not None and citizen_id != expected):
        return Reference(encoding=_decoy(), citizen_id=None, refusal="no_account")
    if sealed is None:
        return Reference(encoding=_decoy(), citizen_id=citizen_id, refusal="no_face_enrolled")
    raw = runtime.cipher.decrypt(sealed, aad=template_aad(citizen_id))
    return Reference(encoding=template_from_bytes(raw), citizen_id=citizen_id, refusal=None)


async def _settle(
    runtime: Runtime,
    conn: asyncpg.Connection,
    *,
    attempt: Attempt,
    index: bytes,
    result: Verification,
    ref: Reference,
) -> tuple[Literal["success", "failure", "locked"], throttle.ThrottleState, throttle.ThrottleState]:
    """Under the challenge's and the identity's row locks: consume, count, remember frames."""
    now = runtime.clock.now()
    row = await repo.get_challenge(conn, attempt.challenge_id, for_update=True)
    if not _challenge_ok(row, attempt, index, now):
        raise ChallengeInvalid("The challenge was used by another attempt.")
    await repo.use_challenge(conn, attempt.challenge_id, now)
    state = await repo.lock_throttle(conn, index, now)
    if not throttle.check(state, now).allowed:  # a concurrent attempt locked it meanwhile
        return "locked", state, state
    prior = state
    success = ref.refusal is None and result.matched
    state = throttle.after_success() if success else throttle.after_failure(state, now)
    await repo.save_throttle(conn, index, state, now)
    if success:
        # Frames that opened a session are what an attacker would record and replay.
        await repo.remember_frame_hashes(conn, index, [h.to_bytes() for h in result.frame_hashes], now)
    await audit.record(
        conn,
        actor=Actor(type="client", id=attempt.client_id),
        action=f"face.{attempt.purpose}." + ("succeeded" if success else "failed"),
        subject_type="identity",
        subject_id=index.hex()[:16],
        at=now,
        details={
            "reason": "matched" if success else (ref.refusal or "face_mismatch"),
            "distance": round(result.distance, 4),
            "threshold": result.threshold,
            "consecutive_failures": state.consecutive_failures,
        },
    )
    return ("success" if success else "failure"), state, prior


async def issue_tokens(
    conn: asyncpg.Connection,
    runtime: Runtime,
    grant: SessionGrant,
    *,
    actor: Actor,
) -> AuthTokens:
    return auth_tokens(grant, await runtime.tokens.issue(conn, grant, actor=actor))


async def issue_face_tokens(
    conn: asyncpg.Connection, runtime: Runtime, citizen_id: UUID, client_id: str, actor: Actor
) -> AuthTokens:
    grant = SessionGrant(
        citizen_id=citizen_id,
        client_id=client_id,
        scope=FACE_SCOPE,
        acr=FACE_ACR,
        amr=("face",),
        auth_time=runtime.clock.now(),
    )
    return await issue_tokens(conn, runtime, grant, actor=actor)


async def verify_face(
    runtime: Runtime,
    attempt: Attempt,
    ref_loader: ReferenceLoader,
    on_success: SuccessHandler,
) -> AuthTokens | AppError:
    """Run one attempt end to end. Failures after the frames pass are returned, so their counts commit."""
    index = runtime.vault.index(attempt.id_number)
    try:
        _, frames = await _precheck(runtime, attempt, index)
        ref = await ref_loader()
        result = await _run_engine(runtime, attempt, frames, ref.encoding, index)
    except AppError as exc:
        events.emit("face_verified", code=exc.code, flow=attempt.purpose)
        raise
    outcome: AuthTokens | AppError = _uniform_failure()
    async with unit_of_work(runtime.pool) as conn:
        verdict, state, prior = await _settle(runtime, conn, attempt=attempt, index=index, result=result, ref=ref)
        if verdict == "success":
            outcome = await on_success(conn, ref)
            if isinstance(outcome, AppError):
                # Refused after the match (already registered): the challenge stays spent, but a match
                # against the registry photo must not reset the failure count of the enrolled face.
                await repo.save_throttle(conn, index, prior, runtime.clock.now())
        elif verdict == "locked":
            outcome = _locked(throttle.check(state, runtime.clock.now()))
    _announce(attempt.purpose, verdict, ref, state, prior)
    return outcome


def _announce(
    flow: str, verdict: str, ref: Reference, state: throttle.ThrottleState, prior: throttle.ThrottleState
) -> None:
    """The committed attempt as domain events: its outcome by reason, and a lockout when this attempt caused it."""
    reason = {"success": "matched", "locked": "face_login_locked"}.get(verdict) or ref.refusal or "face_mismatch"
    events.emit("face_verified", code=reason, flow=flow)
    if state.disabled_at is not None and prior.disabled_at is None:
        events.emit("locked_out", code="face_login_disabled", flow=flow)
    elif state.locked_until is not None and state.locked_until != prior.locked_until:
        events.emit("locked_out", code="face_login_locked", flow=flow)


class ReferenceLoader(Protocol):
    async def __call__(self) -> Reference: ...


class SuccessHandler(Protocol):
    async def __call__(self, conn: asyncpg.Connection, ref: Reference) -> AuthTokens | AppError: ...


async def register_app_client(conn: asyncpg.Connection, data: AppClientCreate, *, at: datetime) -> None:
    """Register an app client, or replace its name and attestation settings (sandbox and demo setup)."""
    await repo.upsert_client(
        conn,
        client_id=data.client_id,
        name=data.name,
        attestation=data.attestation,
        jwk=data.attestation_jwk,
        at=at,
    )
