"""Staff actions on face login: re-enabling it after the throttle disabled it, and resetting an enrolled face."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import asyncpg
import msgspec

from haoban.audit import service as audit
from haoban.audit.schemas import Actor
from haoban.citizens import service as citizens
from haoban.citizens.vault import IdNumberVault
from haoban.identity import repository as repo
from haoban.identity import throttle
from haoban.kit.crypto import FieldCipher
from haoban.settings import Settings

# How long a staff reset lets the person enrol a new face by registering again.
RESET_VALID = timedelta(hours=72)


class FaceReset(msgspec.Struct, frozen=True, kw_only=True):
    reset_id: uuid.UUID
    citizen_id: uuid.UUID
    template_deleted: bool
    expires_at: datetime


def _vault(settings: Settings) -> IdNumberVault:
    return IdNumberVault(FieldCipher(settings.security.field_keys), settings.security.token_hmac_key)


async def reenable_face_login(
    conn: asyncpg.Connection, settings: Settings, id_number: str, *, staff_id: str, reason: str, now: datetime
) -> bool:
    """Reset a locked or disabled identity; False when there was nothing to reset."""
    index = _vault(settings).index(id_number)
    state = await repo.lock_throttle(conn, index, now)
    if state.disabled_at is None and state.consecutive_failures == 0:
        return False
    await repo.save_throttle(conn, index, throttle.after_success(), now)
    await audit.record(
        conn,
        actor=Actor(type="staff", id=staff_id),
        action="face.login_reenabled",
        subject_type="identity",
        subject_id=index.hex()[:16],
        at=now,
        details={
            "reason": reason,
            "failures_before": state.consecutive_failures,
            "was_disabled": bool(state.disabled_at),
        },
    )
    return True


async def reset_face(
    conn: asyncpg.Connection, settings: Settings, id_number: str, *, staff_id: str, reason: str, now: datetime
) -> FaceReset | None:
    """A staff member checked the person: delete the enrolled face and allow one new enrolment (audited).

    The next `POST /v1/auth/register` of this identity whose face matches the registry photo enrols a new
    face within `RESET_VALID`; the phone number stays (a change needs the face level and the new number's
    code). None when the identity has no account.
    """
    index = _vault(settings).index(id_number)
    citizen_id = await citizens.find_by_id_number(conn, index)
    if citizen_id is None:
        return None
    await repo.lock_throttle(conn, index, now)
    deleted = await repo.delete_template(conn, citizen_id)
    await repo.save_throttle(conn, index, throttle.after_success(), now)
    reset = FaceReset(
        reset_id=uuid.uuid4(), citizen_id=citizen_id, template_deleted=deleted, expires_at=now + RESET_VALID
    )
    await repo.insert_face_reset(
        conn,
        reset_id=reset.reset_id,
        citizen_id=citizen_id,
        staff_id=staff_id,
        reason=reason,
        created_at=now,
        expires_at=reset.expires_at,
    )
    await audit.record(
        conn,
        actor=Actor(type="staff", id=staff_id),
        action="face.reset",
        subject_type="citizen",
        subject_id=str(citizen_id),
        at=now,
        details={"reason": reason, "template_deleted": deleted, "reset_id": str(reset.reset_id)},
    )
    return reset
