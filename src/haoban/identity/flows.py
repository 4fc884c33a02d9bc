"""The three face flows and the one-time-code alternative, built on `service.verify_face`."""

from __future__ import annotations

import hmac
import secrets
import uuid
from datetime import timedelta

import asyncpg

from haoban.audit import repository as audit
from haoban.audit.schemas import Actor
from haoban.citizens import repository as citizens_repo
from haoban.citizens import service as citizens
from haoban.identity import repository as repo
from haoban.identity.face.features import template_bytes
from haoban.identity.schemas import (
    AuthTokens,
    FaceLoginRequest,
    OtpStart,
    OtpStarted,
    OtpVerify,
    RegisterRequest,
    StepUpRequest,
)
from haoban.identity.service import (
    FACE_MODEL,
    Attempt,
    Reference,
    enrolled_reference,
    issue_face_tokens,
    issue_tokens,
    registration_reference,
    template_aad,
    verify_face,
)
from haoban.kit.crypto import keyed_hash
from haoban.kit.errors import AppError, FieldError, NotFound, Unauthorized, ValidationFailed
from haoban.miniprogram import service as miniprogram
from haoban.notifications.ports import NotifierUnavailable
from haoban.runtime import Runtime
from haoban.tokens.schemas import Principal, SessionGrant

OTP_TTL = timedelta(minutes=5)
OTP_MAX_ATTEMPTS = 5
OTP_ACR = "urn:haoban:loa:otp"


class OtpInvalid(Unauthorized):
    code = "otp_invalid"


async def register(runtime: Runtime, client_id: str, data: RegisterRequest) -> AuthTokens | AppError:
    if not data.consent.biometric:
        raise ValidationFailed(
            "Face enrolment needs explicit biometric consent.",
            errors=[FieldError(field="consent.biometric", reason="must be true to enrol a face")],
        )
    attempt = Attempt(
        client_id=client_id,
        challenge_id=data.challenge_id,
        id_number=data.id_number,
        purpose="register",
        frames_b64=data.frames,
        attestation=data.attestation,
    )

    if data.binding_ticket is not None:
        await miniprogram.check_ticket(runtime, data.binding_ticket)

    async def load() -> Reference:
        return await registration_reference(runtime, data.id_number, data.name)

    async def enrol(conn: asyncpg.Connection, ref: Reference) -> AuthTokens:
        now = runtime.clock.now()
        actor = Actor(type="client", id=client_id)
        existing = await citizens_repo.find_by_id_number(conn, runtime.vault.index(data.id_number))
        citizen_id = existing or uuid.uuid4()
        if existing is None:
            await citizens.create_citizen(
                conn, citizen_id=citizen_id, now=now, actor=actor, id_number=data.id_number, vault=runtime.vault
            )
        if data.phone is not None:
            sealed = runtime.cipher.encrypt(data.phone.encode(), aad=f"citizens:phone:{citizen_id}")
            await citizens_repo.set_phone(conn, citizen_id, sealed)
        template = runtime.cipher.encrypt(template_bytes(ref.encoding), aad=template_aad(citizen_id))
        await repo.upsert_template(
            conn,
            citizen_id=citizen_id,
            template_enc=template,
            model=FACE_MODEL,
            terms_version=data.consent.terms_version,
            at=now,
        )
        await audit.record(
            conn,
            actor=Actor(type="citizen", id=str(citizen_id)),
            action="biometric_consent.granted",
            subject_type="citizen",
            subject_id=str(citizen_id),
            at=now,
            details={"terms_version": data.consent.terms_version, "client_id": client_id},
        )
        if data.binding_ticket is not None:
            await miniprogram.bind_with_ticket(conn, runtime, data.binding_ticket, citizen_id)
        return await issue_face_tokens(conn, runtime, citizen_id, client_id, actor)

    return await verify_face(runtime, attempt, load, enrol)


async def login(runtime: Runtime, client_id: str, data: FaceLoginRequest) -> AuthTokens | AppError:
    attempt = Attempt(
        client_id=client_id,
        challenge_id=data.challenge_id,
        id_number=data.id_number,
        purpose="login",
        frames_b64=data.frames,
        attestation=data.attestation,
    )

    if data.binding_ticket is not None:
        await miniprogram.check_ticket(runtime, data.binding_ticket)

    async def load() -> Reference:
        return await enrolled_reference(runtime, runtime.vault.index(data.id_number))

    async def issue(conn: asyncpg.Connection, ref: Reference) -> AuthTokens:
        if ref.citizen_id is None:  # unreachable: a reference without a citizen always refuses
            raise RuntimeError("matched without a citizen")
        if data.binding_ticket is not None:
            await miniprogram.bind_with_ticket(conn, runtime, data.binding_ticket, ref.citizen_id)
        return await issue_face_tokens(conn, runtime, ref.citizen_id, client_id, Actor(type="client", id=client_id))

    return await verify_face(runtime, attempt, load, issue)


async def step_up(
    conn: asyncpg.Connection, runtime: Runtime, principal: Principal, client_id: str, data: StepUpRequest
) -> AuthTokens | AppError:
    id_number = await citizens.id_number_of(conn, runtime.vault, principal.citizen_id)
    attempt = Attempt(
        client_id=client_id,
        challenge_id=data.challenge_id,
        id_number=id_number,
        purpose="step_up",
        frames_b64=data.frames,
        attestation=data.attestation,
    )

    async def load() -> Reference:
        return await enrolled_reference(runtime, runtime.vault.index(id_number), expected=principal.citizen_id)

    async def issue(conn: asyncpg.Connection, ref: Reference) -> AuthTokens:
        return await issue_face_tokens(
            conn, runtime, principal.citizen_id, client_id, Actor(type="client", id=client_id)
        )

    return await verify_face(runtime, attempt, load, issue)


async def withdraw_face(conn: asyncpg.Connection, runtime: Runtime, principal: Principal) -> None:
    """Withdraw biometric consent: the template is deleted; face login stops working."""
    if not await repo.delete_template(conn, principal.citizen_id):
        raise NotFound("No face is enrolled.")
    await audit.record(
        conn,
        actor=Actor(type="citizen", id=str(principal.citizen_id)),
        action="biometric_consent.withdrawn",
        subject_type="citizen",
        subject_id=str(principal.citizen_id),
        at=runtime.clock.now(),
    )


# --- one-time codes ----------------------------------------------------------


def _code_hmac(runtime: Runtime, otp_id: uuid.UUID, code: str) -> bytes:
    return keyed_hash(runtime.settings.security.token_hmac_key, f"otp:{otp_id}:{code}")


async def start_otp(conn: asyncpg.Connection, runtime: Runtime, data: OtpStart) -> OtpStarted:
    """Send a code to the registered phone. Same answer whether or not the person has an account."""
    now = runtime.clock.now()
    otp_id = uuid.uuid4()
    code = f"{secrets.randbelow(1_000_000):06d}"
    citizen_id = await citizens_repo.find_by_id_number(conn, runtime.vault.index(data.id_number))
    sealed_phone = await citizens_repo.sealed_phone(conn, citizen_id) if citizen_id else None
    await repo.insert_otp(
        conn,
        otp_id=otp_id,
        citizen_id=citizen_id if sealed_phone else None,
        code_hmac=_code_hmac(runtime, otp_id, code),
        created_at=now,
        expires_at=now + OTP_TTL,
    )
    if citizen_id is not None and sealed_phone is not None:
        phone = runtime.cipher.decrypt(sealed_phone, aad=f"citizens:phone:{citizen_id}").decode()
        try:
            body = f"【好办】登录验证码 {code}，5 分钟内有效。"
            await runtime.notifier.send(channel="sms", recipient=phone, body=body)
        except NotifierUnavailable as exc:
            raise AppError("The message could not be sent; try again shortly.") from exc
    return OtpStarted(request_id=otp_id, expires_at=now + OTP_TTL)


async def verify_otp(conn: asyncpg.Connection, runtime: Runtime, data: OtpVerify) -> AuthTokens | AppError:
    """A lower level of assurance than face: services that pay out refuse it."""
    now = runtime.clock.now()
    row = await repo.lock_otp(conn, data.request_id)
    refused = OtpInvalid("The code is wrong, used or expired.")
    if row is None:
        return refused
    usable = row.used_at is None and row.expires_at > now and row.attempts < OTP_MAX_ATTEMPTS
    right = hmac.compare_digest(row.code_hmac, _code_hmac(runtime, row.id, data.code))
    ok = usable and right and row.citizen_id is not None
    await repo.otp_attempted(conn, row.id, used_at=now if ok else None)
    if not ok or row.citizen_id is None:
        return refused
    grant = SessionGrant(
        citizen_id=row.citizen_id,
        client_id="haoban-app",
        scope=("openid",),
        acr=OTP_ACR,
        amr=("otp",),
        auth_time=now,
    )
    return await issue_tokens(conn, runtime, grant, actor=Actor(type="citizen", id=str(row.citizen_id)))
