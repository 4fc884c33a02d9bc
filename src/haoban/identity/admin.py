"""Staff actions on face login: re-enabling it after the throttle disabled it."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from haoban.audit import repository as audit
from haoban.audit.schemas import Actor
from haoban.citizens.vault import IdNumberVault
from haoban.identity import repository as repo
from haoban.identity import throttle
from haoban.kit.crypto import FieldCipher
from haoban.settings import Settings


async def reenable_face_login(
    conn: asyncpg.Connection, settings: Settings, id_number: str, *, staff_id: str, reason: str, now: datetime
) -> bool:
    """Reset a locked or disabled identity; False when there was nothing to reset."""
    vault = IdNumberVault(FieldCipher(settings.security.field_keys), settings.security.token_hmac_key)
    index = vault.index(id_number)
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
