"""The three face flows and withdrawing a face, built on `verification.verify_face` (codes: identity/codes.py).

Account safety (docs/identity.md): registering an identity that has an account never
replaces its face or phone; withdrawing the face needs the face level.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import asyncpg

from haoban.audit import service as audit
from haoban.audit.schemas import Actor
from haoban.citizens import service as citizens
from haoban.identity import repository as repo
from haoban.identity.face.features import template_bytes
from haoban.identity.schemas import (
    AuthTokens,
    FaceLoginRequest,
    ReenrolmentAllowed,
    RegisterRequest,
    StepUpRequest,
)
from haoban.identity.service.verification import (
    FACE_MODEL,
    Attempt,
    Reference,
    enrolled_reference,
    issue_face_tokens,
    registration_reference,
    template_aad,
    verify_face,
)
from haoban.identity.stepup import require_recent_face
from haoban.kit.errors import AppError, Conflict, FieldError, NotFound, ValidationFailed
from haoban.miniprogram import service as miniprogram
from haoban.runtime import Runtime
from haoban.tokens.schemas import Principal

CONSENT_GRANTED = "biometric_consent.granted"
# A citizen's own re-enrolment must follow the face login closely: the window of the face level, doubled.
SELF_RESET_VALID = timedelta(minutes=10)


class AlreadyRegistered(Conflict):
    code = "already_registered"


async def register(runtime: Runtime, client_id: str, data: RegisterRequest, *, address: str) -> AuthTokens | AppError:
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
        address=address,
    )

    if data.binding_ticket is not None:
        await miniprogram.check_ticket(runtime, data.binding_ticket)

    async def load() -> Reference:
        return await registration_reference(runtime, data.id_number, data.name)

    async def enrol(conn: asyncpg.Connection, ref: Reference) -> AuthTokens | AppError:
        # Runs under the identity's throttle row lock (verification._settle), so two registrations
        # of one identity are serialised and the second sees the first's account.
        now = runtime.clock.now()
        actor = Actor(type="client", id=client_id)
        existing = await citizens.find_by_id_number(conn, runtime.vault.index(data.id_number))
        reset_id: uuid.UUID | None = None
        if existing is not None:
            # The face matched the registry photo, so saying that an account exists tells only its owner
            # (or someone with the owner's face). A photo must not replace an enrolled face or the phone,
            # nor enrol one again after it was withdrawn or reset, unless staff reset face login.
            # An account that never had a face (made in the sandbox) gets its first one, like a new account.
            enrolled = await repo.has_template(conn, existing)
            had_face = enrolled or await audit.has_event(
                conn, subject_type="citizen", subject_id=str(existing), action=CONSENT_GRANTED
            )
            # A staff reset deleted the face; a citizen's own reset (after a face login) keeps it until now.
            reset_id = await repo.spend_face_reset(conn, existing, now) if had_face else None
            if had_face and reset_id is None:
                await audit.record(
                    conn,
                    actor=actor,
                    action="face.register.already_registered",
                    subject_type="citizen",
                    subject_id=str(existing),
                    at=now,
                    details={"client_id": client_id, "face_enrolled": enrolled},
                )
                return AlreadyRegistered(
                    "This identity already has an account: log in by face instead. "
                    "To enrol a new face, log in by face and ask for re-enrolment, or have a service centre "
                    "reset face login."
                )
        citizen_id = existing or uuid.uuid4()
        if existing is None:
            await citizens.create_citizen(
                conn, citizen_id=citizen_id, now=now, actor=actor, id_number=data.id_number, vault=runtime.vault
            )
            if data.phone is not None:
                await citizens.set_first_phone(conn, runtime.cipher, citizen_id, data.phone)
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
            action=CONSENT_GRANTED,
            subject_type="citizen",
            subject_id=str(citizen_id),
            at=now,
            details={"terms_version": data.consent.terms_version, "client_id": client_id},
        )
        if reset_id is not None:
            await audit.record(
                conn,
                actor=actor,
                action="face.reenrolled",
                subject_type="citizen",
                subject_id=str(citizen_id),
                at=now,
                details={"face_reset_id": str(reset_id), "phone_changed": False},
            )
        if data.binding_ticket is not None:
            await miniprogram.bind_with_ticket(conn, runtime, data.binding_ticket, citizen_id)
        return await issue_face_tokens(conn, runtime, citizen_id, client_id, actor)

    return await verify_face(runtime, attempt, load, enrol)


async def login(runtime: Runtime, client_id: str, data: FaceLoginRequest, *, address: str) -> AuthTokens | AppError:
    attempt = Attempt(
        client_id=client_id,
        challenge_id=data.challenge_id,
        id_number=data.id_number,
        purpose="login",
        frames_b64=data.frames,
        attestation=data.attestation,
        address=address,
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
    conn: asyncpg.Connection,
    runtime: Runtime,
    principal: Principal,
    client_id: str,
    data: StepUpRequest,
    *,
    address: str,
) -> AuthTokens | AppError:
    id_number = await citizens.id_number_of(conn, runtime.vault, principal.citizen_id)
    attempt = Attempt(
        client_id=client_id,
        challenge_id=data.challenge_id,
        id_number=id_number,
        purpose="step_up",
        frames_b64=data.frames,
        attestation=data.attestation,
        address=address,
    )

    async def load() -> Reference:
        return await enrolled_reference(runtime, runtime.vault.index(id_number), expected=principal.citizen_id)

    async def issue(conn: asyncpg.Connection, ref: Reference) -> AuthTokens:
        return await issue_face_tokens(
            conn, runtime, principal.citizen_id, client_id, Actor(type="client", id=client_id)
        )

    return await verify_face(runtime, attempt, load, issue)


async def withdraw_face(conn: asyncpg.Connection, runtime: Runtime, principal: Principal) -> None:
    """Withdraw biometric consent: the template is deleted; face login stops working.

    Needs the face level: a stolen code-level or stale session must not remove the face
    (enrolling a new one then needs a staff reset, so this is not a takeover path either).
    """
    require_recent_face(principal, runtime.clock.now())
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


async def allow_reenrolment(conn: asyncpg.Connection, runtime: Runtime, principal: Principal) -> ReenrolmentAllowed:
    """After a face login with the enrolled face, allow one new enrolment (audited).

    The enrolled face keeps working until a registration whose face matches the registry photo replaces
    it; the phone stays. A code-level or stale session cannot do this, so a photo alone never can.
    """
    now = runtime.clock.now()
    require_recent_face(principal, now)
    if not await repo.has_template(conn, principal.citizen_id):
        raise NotFound("No face is enrolled.")
    reset_id = uuid.uuid4()
    expires_at = now + SELF_RESET_VALID
    await repo.insert_face_reset(
        conn,
        reset_id=reset_id,
        citizen_id=principal.citizen_id,
        staff_id=None,
        reason="self-service re-enrolment after a face login",
        created_at=now,
        expires_at=expires_at,
    )
    await audit.record(
        conn,
        actor=Actor(type="citizen", id=str(principal.citizen_id)),
        action="face.reenrolment.allowed",
        subject_type="citizen",
        subject_id=str(principal.citizen_id),
        at=now,
        details={"reset_id": str(reset_id), "expires_at": expires_at.isoformat()},
    )
    return ReenrolmentAllowed(expires_at=expires_at)


async def face_enrolled(conn: asyncpg.Connection, citizen_id: uuid.UUID) -> bool:
    """Whether the citizen has an enrolled face (the template itself never leaves this slice)."""
    return await repo.has_template(conn, citizen_id)
