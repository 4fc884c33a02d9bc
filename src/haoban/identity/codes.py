"""One-time codes: the code-level login and phone changes (NIST SP 800-63B limits through haoban.limits).

A code lives 5 minutes and takes 5 tries; sends are limited per identity, per phone and
per address; wrong codes in a row lock the identity with a growing wait. A phone change
needs the face level and a code from the new number, and the old number is told.
"""

from __future__ import annotations

import hmac
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from haoban.audit import service as audit
from haoban.audit.schemas import Actor
from haoban.citizens import service as citizens
from haoban.identity import repository as repo
from haoban.identity import throttle
from haoban.identity.schemas import (
    AuthTokens,
    OtpRow,
    OtpStart,
    OtpStarted,
    OtpVerify,
    PhoneChangeConfirm,
    PhoneChanged,
    PhoneChangeStart,
    PhoneChangeStarted,
)
from haoban.identity.service import issue_tokens
from haoban.identity.stepup import require_recent_face
from haoban.kit.crypto import keyed_hash
from haoban.kit.errors import AppError, FieldError, Unauthorized, Unavailable, ValidationFailed
from haoban.kit.masking import mask_phone
from haoban.limits.service import Verdict, refusal
from haoban.notifications.ports import NotifierUnavailable
from haoban.outbox import service as outbox
from haoban.runtime import Runtime
from haoban.tokens.schemas import Principal, SessionGrant

OTP_TTL = timedelta(minutes=5)
OTP_MAX_ATTEMPTS = 5
OTP_ACR = "urn:haoban:loa:otp"
PHONE_NOTICE_KIND = "identity.phone_changed_notice"


class OtpInvalid(Unauthorized):
    code = "otp_invalid"


def _code_hmac(runtime: Runtime, otp_id: uuid.UUID, code: str) -> bytes:
    return keyed_hash(runtime.settings.security.token_hmac_key, f"otp:{otp_id}:{code}")


def _new_phone_aad(otp_id: uuid.UUID) -> str:
    return f"otp_requests:new_phone:{otp_id}"


async def _limit_sends(runtime: Runtime, *, id_number: str, address: str, now: datetime) -> None:
    """NIST SP 800-63B: sends per address and per identity (1 a minute, 5 an hour, 10 a day)."""
    limiter, pool = runtime.limiter, runtime.pool
    await limiter.hit(pool, scope="otp.send.address", key=address, rules=throttle.CODE_SENDS_PER_ADDRESS, now=now)
    await limiter.hit(pool, scope="otp.send.identity", key=id_number, rules=throttle.CODE_SENDS, now=now)


async def _phone_allows(runtime: Runtime, phone: str, now: datetime) -> Verdict:
    """Codes that reach one phone, whichever identity asked (several may have given the same number)."""
    return await runtime.limiter.count(
        runtime.pool, scope="otp.send.phone", key=phone, rules=throttle.CODE_SENDS, now=now
    )


async def _limit_verify(runtime: Runtime, *, identity: bytes | None, address: str, now: datetime) -> None:
    """Per address, and a streak per identity across codes: 10 wrong codes in a row lock it, longer each time."""
    limiter, pool = runtime.limiter, runtime.pool
    await limiter.hit(pool, scope="otp.verify.address", key=address, rules=throttle.CODE_VERIFIES_PER_ADDRESS, now=now)
    if identity is not None:
        await limiter.attempt(
            pool,
            scope="otp.verify.identity",
            key=identity.hex(),
            backoff=throttle.CODE_FAILURES,
            now=now,
            detail="Too many wrong codes; wait before trying again.",
        )


async def _verified(runtime: Runtime, identity: bytes | None) -> None:
    if identity is not None:
        await runtime.limiter.succeeded(runtime.pool, scope="otp.verify.identity", key=identity.hex())


def _code_ok(runtime: Runtime, row: OtpRow, code: str, now: datetime) -> bool:
    usable = row.used_at is None and row.expires_at > now and row.attempts < OTP_MAX_ATTEMPTS
    right = hmac.compare_digest(row.code_hmac, _code_hmac(runtime, row.id, code))
    return usable and right


async def _send_sms(runtime: Runtime, phone: str, body: str) -> None:
    try:
        await runtime.notifier.send(channel="sms", recipient=phone, body=body)
    except NotifierUnavailable as exc:
        raise Unavailable("The message could not be sent; try again shortly.") from exc


async def start_otp(conn: asyncpg.Connection, runtime: Runtime, data: OtpStart, *, address: str) -> OtpStarted:
    """Send a code to the registered phone. Same answer whether or not the person has an account."""
    now = runtime.clock.now()
    await _limit_sends(runtime, id_number=data.id_number, address=address, now=now)
    otp_id = uuid.uuid4()
    code = f"{secrets.randbelow(1_000_000):06d}"
    index = runtime.vault.index(data.id_number)
    citizen_id = await citizens.find_by_id_number(conn, index)
    phone = await citizens.phone_of(conn, runtime.cipher, citizen_id) if citizen_id else None
    if phone is not None and not (await _phone_allows(runtime, phone, now)).allowed:
        # Answered like any other send: a 429 here would tell that this identity has a phone.
        await audit.record(
            conn,
            actor=Actor(type="system", id="limits"),
            action="otp.send_suppressed",
            subject_type="citizen",
            subject_id=str(citizen_id),
            at=now,
            details={"reason": "phone_limit", "phone": mask_phone(phone)},
        )
        phone = None
    await repo.insert_otp(
        conn,
        otp_id=otp_id,
        purpose="login",
        citizen_id=citizen_id if phone else None,
        id_number_hmac=index,
        code_hmac=_code_hmac(runtime, otp_id, code),
        created_at=now,
        expires_at=now + OTP_TTL,
    )
    if phone is not None:
        await _send_sms(runtime, phone, f"【好办】登录验证码 {code}，5 分钟内有效。")
    return OtpStarted(request_id=otp_id, expires_at=now + OTP_TTL)


async def verify_otp(
    conn: asyncpg.Connection, runtime: Runtime, data: OtpVerify, *, address: str
) -> AuthTokens | AppError:
    """A lower level of assurance than face: services that pay out refuse it."""
    now = runtime.clock.now()
    identity = await repo.identity_of_otp(runtime.pool, data.request_id)
    await _limit_verify(runtime, identity=identity, address=address, now=now)
    row = await repo.lock_otp(conn, data.request_id)
    refused = OtpInvalid("The code is wrong, used or expired.")
    if row is None:
        return refused
    ok = row.purpose == "login" and _code_ok(runtime, row, data.code, now) and row.citizen_id is not None
    await repo.otp_attempted(conn, row.id, used_at=now if ok else None)
    if not ok or row.citizen_id is None:
        return refused
    await _verified(runtime, identity)
    grant = SessionGrant(
        citizen_id=row.citizen_id,
        client_id="haoban-app",
        scope=("openid",),
        acr=OTP_ACR,
        amr=("otp",),
        auth_time=now,
    )
    return await issue_tokens(conn, runtime, grant, actor=Actor(type="citizen", id=str(row.citizen_id)))


# --- phone changes -----------------------------------------------------------


async def start_phone_change(
    conn: asyncpg.Connection, runtime: Runtime, principal: Principal, data: PhoneChangeStart, *, address: str
) -> PhoneChangeStarted:
    """Face level first, then a code to the NEW number; the number changes only on confirm."""
    now = runtime.clock.now()
    require_recent_face(principal, now)
    id_number = await citizens.id_number_of(conn, runtime.vault, principal.citizen_id)
    await _limit_sends(runtime, id_number=id_number, address=address, now=now)
    if await citizens.phone_of(conn, runtime.cipher, principal.citizen_id) == data.phone:
        raise ValidationFailed(errors=[FieldError(field="phone", reason="is already this account's phone number")])
    if not (verdict := await _phone_allows(runtime, data.phone, now)).allowed:
        raise refusal(verdict.retry_after_s, "Too many codes were sent to this number; try again later.")
    otp_id = uuid.uuid4()
    code = f"{secrets.randbelow(1_000_000):06d}"
    await repo.insert_otp(
        conn,
        otp_id=otp_id,
        purpose="phone_change",
        citizen_id=principal.citizen_id,
        id_number_hmac=runtime.vault.index(id_number),
        code_hmac=_code_hmac(runtime, otp_id, code),
        created_at=now,
        expires_at=now + OTP_TTL,
        new_phone_enc=runtime.cipher.encrypt(data.phone.encode(), aad=_new_phone_aad(otp_id)),
    )
    await audit.record(
        conn,
        actor=Actor(type="citizen", id=str(principal.citizen_id)),
        action="citizen.phone_change_started",
        subject_type="citizen",
        subject_id=str(principal.citizen_id),
        at=now,
        details={"new": mask_phone(data.phone), "request_id": str(otp_id)},
    )
    await _send_sms(runtime, data.phone, f"【好办】您正在更换绑定手机号，验证码 {code}，5 分钟内有效。")
    return PhoneChangeStarted(request_id=otp_id, expires_at=now + OTP_TTL, phone_masked=mask_phone(data.phone))


async def confirm_phone_change(
    conn: asyncpg.Connection, runtime: Runtime, principal: Principal, data: PhoneChangeConfirm, *, address: str
) -> PhoneChanged | AppError:
    """The code from the new number; the old number is told by SMS (through the outbox, after commit)."""
    now = runtime.clock.now()
    require_recent_face(principal, now)
    identity = await repo.identity_of_otp(runtime.pool, data.request_id)
    await _limit_verify(runtime, identity=identity, address=address, now=now)
    row = await repo.lock_otp(conn, data.request_id)
    refused = OtpInvalid("The code is wrong, used or expired.")
    if row is None or row.purpose != "phone_change" or row.citizen_id != principal.citizen_id:
        return refused
    ok = _code_ok(runtime, row, data.code, now) and row.new_phone_enc is not None
    await repo.otp_attempted(conn, row.id, used_at=now if ok else None)
    if not ok or row.new_phone_enc is None:
        return refused
    await _verified(runtime, identity)
    phone = runtime.cipher.decrypt(row.new_phone_enc, aad=_new_phone_aad(row.id)).decode()
    citizen_id = principal.citizen_id
    actor = Actor(type="citizen", id=str(citizen_id))
    old = await citizens.change_phone(conn, runtime.cipher, citizen_id, phone, actor=actor, now=now)
    await repo.close_open_otps(conn, citizen_id, now)  # codes already sent to the old phone stop working
    if old is not None:
        await outbox.enqueue(
            conn,
            kind=PHONE_NOTICE_KIND,
            ref=str(row.id),
            payload={
                "request_id": str(row.id),
                "citizen_id": str(citizen_id),
                "old_phone_enc": runtime.cipher.encrypt(old.encode(), aad=_notice_aad(row.id)),
                "new_masked": mask_phone(phone),
                "changed_at": now.isoformat(),
            },
            at=now,
        )
    return PhoneChanged(phone_masked=mask_phone(phone), changed_at=now)


def _notice_aad(request_id: uuid.UUID | str) -> str:
    return f"outbox:phone_notice:{request_id}"


async def send_phone_notice(runtime: Runtime, payload: dict[str, Any]) -> None:
    """Outbox handler: tell the old number that the account's phone changed (at least once)."""
    ref = str(payload["request_id"])
    old = runtime.cipher.decrypt(str(payload["old_phone_enc"]), aad=_notice_aad(ref)).decode()
    body = (
        f"【好办】您的好办账号绑定手机号已更换为 {payload['new_masked']}。"
        "如非本人操作，请立即到政务服务中心或拨打 12345 处理。"
    )
    try:
        await runtime.notifier.send(channel="sms", recipient=old, body=body)
    except NotifierUnavailable as exc:
        raise Unavailable("the SMS channel did not take the notice") from exc
