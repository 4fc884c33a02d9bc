"""SQL for app clients, face challenges, templates, throttles, frame hashes, one-time codes and face resets."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from haoban.identity.schemas import AppClient, ChallengeRow, OtpRow
from haoban.identity.throttle import ThrottleState

Executor = asyncpg.Pool | asyncpg.Connection


# --- app clients ------------------------------------------------------------


async def upsert_client(
    conn: asyncpg.Connection, *, client_id: str, name: str, attestation: str, jwk: dict[str, Any] | None, at: datetime
) -> None:
    await conn.execute(
        "INSERT INTO app_clients (client_id, name, attestation, attestation_jwk, created_at)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (client_id) DO UPDATE"
        " SET name = EXCLUDED.name, attestation = EXCLUDED.attestation, attestation_jwk = EXCLUDED.attestation_jwk",
        client_id,
        name,
        attestation,
        jwk,
        at,
    )


async def get_client(db: Executor, client_id: str) -> AppClient | None:
    row = await db.fetchrow(
        "SELECT client_id, name, attestation, attestation_jwk FROM app_clients WHERE client_id = $1", client_id
    )
    return None if row is None else AppClient(**dict(row))


# --- challenges -------------------------------------------------------------


async def insert_challenge(
    conn: asyncpg.Connection,
    *,
    challenge_id: UUID,
    nonce: str,
    id_number_hmac: bytes,
    purpose: str,
    client_id: str,
    created_at: datetime,
    expires_at: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO face_challenges (id, nonce, id_number_hmac, purpose, client_id, created_at, expires_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)",
        challenge_id,
        nonce,
        id_number_hmac,
        purpose,
        client_id,
        created_at,
        expires_at,
    )


async def get_challenge(db: Executor, challenge_id: UUID, *, for_update: bool = False) -> ChallengeRow | None:
    sql = "SELECT id, nonce, id_number_hmac, purpose, client_id, expires_at, used_at FROM face_challenges WHERE id = $1"
    row = await db.fetchrow(sql + (" FOR UPDATE" if for_update else ""), challenge_id)
    return None if row is None else ChallengeRow(**dict(row))


async def use_challenge(conn: asyncpg.Connection, challenge_id: UUID, at: datetime) -> None:
    await conn.execute("UPDATE face_challenges SET used_at = $2 WHERE id = $1", challenge_id, at)


async def purge_challenges(conn: asyncpg.Connection, before: datetime) -> None:
    await conn.execute("DELETE FROM face_challenges WHERE expires_at < $1", before)


# --- throttles --------------------------------------------------------------


async def lock_throttle(conn: asyncpg.Connection, id_number_hmac: bytes, now: datetime) -> ThrottleState:
    """The identity's counters, row-locked until the transaction ends (created on first use)."""
    await conn.execute(
        "INSERT INTO face_throttles (id_number_hmac, updated_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        id_number_hmac,
        now,
    )
    row = await conn.fetchrow(
        "SELECT consecutive_failures, locked_until, disabled_at FROM face_throttles"
        " WHERE id_number_hmac = $1 FOR UPDATE",
        id_number_hmac,
    )
    if row is None:
        raise RuntimeError("throttle row vanished")
    return ThrottleState(**dict(row))


async def read_throttle(db: Executor, id_number_hmac: bytes) -> ThrottleState:
    row = await db.fetchrow(
        "SELECT consecutive_failures, locked_until, disabled_at FROM face_throttles WHERE id_number_hmac = $1",
        id_number_hmac,
    )
    return ThrottleState() if row is None else ThrottleState(**dict(row))


async def save_throttle(conn: asyncpg.Connection, id_number_hmac: bytes, state: ThrottleState, now: datetime) -> None:
    await conn.execute(
        "UPDATE face_throttles SET consecutive_failures = $2, locked_until = $3, disabled_at = $4, updated_at = $5"
        " WHERE id_number_hmac = $1",
        id_number_hmac,
        state.consecutive_failures,
        state.locked_until,
        state.disabled_at,
        now,
    )


# --- frame hashes -----------------------------------------------------------


async def recent_frame_hashes(db: Executor, id_number_hmac: bytes, since: datetime) -> list[bytes]:
    rows = await db.fetch(
        "SELECT frame_hash FROM face_frame_hashes WHERE id_number_hmac = $1 AND seen_at > $2", id_number_hmac, since
    )
    return [r["frame_hash"] for r in rows]


async def remember_frame_hashes(
    conn: asyncpg.Connection, id_number_hmac: bytes, hashes: list[bytes], at: datetime
) -> None:
    await conn.executemany(
        "INSERT INTO face_frame_hashes (id_number_hmac, frame_hash, seen_at) VALUES ($1, $2, $3)",
        [(id_number_hmac, h, at) for h in hashes],
    )


# --- templates --------------------------------------------------------------


async def upsert_template(
    conn: asyncpg.Connection,
    *,
    citizen_id: UUID,
    template_enc: str,
    model: str,
    terms_version: str,
    at: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO face_templates (citizen_id, template_enc, model, terms_version, consented_at, enrolled_at)"
        " VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (citizen_id) DO UPDATE SET template_enc = EXCLUDED.template_enc,"
        " model = EXCLUDED.model, terms_version = EXCLUDED.terms_version, consented_at = EXCLUDED.consented_at,"
        " enrolled_at = EXCLUDED.enrolled_at",
        citizen_id,
        template_enc,
        model,
        terms_version,
        at,
    )


async def template_of(db: Executor, citizen_id: UUID) -> str | None:
    value: str | None = await db.fetchval("SELECT template_enc FROM face_templates WHERE citizen_id = $1", citizen_id)
    return value


async def has_template(db: Executor, citizen_id: UUID) -> bool:
    return bool(await db.fetchval("SELECT EXISTS (SELECT 1 FROM face_templates WHERE citizen_id = $1)", citizen_id))


async def delete_template(conn: asyncpg.Connection, citizen_id: UUID) -> bool:
    status = await conn.execute("DELETE FROM face_templates WHERE citizen_id = $1", citizen_id)
    return bool(status.endswith(" 1"))


# --- one-time codes ---------------------------------------------------------


async def insert_otp(
    conn: asyncpg.Connection,
    *,
    otp_id: UUID,
    purpose: str,
    citizen_id: UUID | None,
    id_number_hmac: bytes,
    code_hmac: bytes,
    created_at: datetime,
    expires_at: datetime,
    new_phone_enc: str | None = None,
) -> None:
    await conn.execute(
        "INSERT INTO otp_requests"
        " (id, purpose, citizen_id, id_number_hmac, code_hmac, created_at, expires_at, new_phone_enc)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        otp_id,
        purpose,
        citizen_id,
        id_number_hmac,
        code_hmac,
        created_at,
        expires_at,
        new_phone_enc,
    )


async def lock_otp(conn: asyncpg.Connection, otp_id: UUID) -> OtpRow | None:
    row = await conn.fetchrow(
        "SELECT id, purpose, citizen_id, id_number_hmac, code_hmac, expires_at, attempts, used_at, new_phone_enc"
        " FROM otp_requests WHERE id = $1 FOR UPDATE",
        otp_id,
    )
    return None if row is None else OtpRow(**dict(row))


async def identity_of_otp(db: Executor, otp_id: UUID) -> bytes | None:
    """Whose identity asked for a code (keyed hash), read before the code is checked."""
    value: bytes | None = await db.fetchval("SELECT id_number_hmac FROM otp_requests WHERE id = $1", otp_id)
    return value


async def close_open_otps(conn: asyncpg.Connection, citizen_id: UUID, at: datetime) -> int:
    """Spend every unused code of the citizen (after a phone change the old phone's codes must not work)."""
    status = await conn.execute(
        "UPDATE otp_requests SET used_at = $2 WHERE citizen_id = $1 AND used_at IS NULL", citizen_id, at
    )
    return int(status.split()[-1])


async def otp_attempted(conn: asyncpg.Connection, otp_id: UUID, *, used_at: datetime | None) -> None:
    await conn.execute(
        "UPDATE otp_requests SET attempts = attempts + 1, used_at = COALESCE($2, used_at) WHERE id = $1",
        otp_id,
        used_at,
    )


# --- staff-verified face resets ---------------------------------------------


async def insert_face_reset(
    conn: asyncpg.Connection,
    *,
    reset_id: UUID,
    citizen_id: UUID,
    staff_id: str | None,
    reason: str,
    created_at: datetime,
    expires_at: datetime,
) -> None:
    """A staff reset names its staff member; a citizen's own (after a face login) has none."""
    await conn.execute(
        "INSERT INTO face_resets (id, citizen_id, staff_id, granted_by, reason, created_at, expires_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)",
        reset_id,
        citizen_id,
        staff_id,
        "citizen" if staff_id is None else "staff",
        reason,
        created_at,
        expires_at,
    )


async def spend_face_reset(conn: asyncpg.Connection, citizen_id: UUID, at: datetime) -> UUID | None:
    """Use the newest open reset of the citizen; None when there is none."""
    value: UUID | None = await conn.fetchval(
        "UPDATE face_resets SET used_at = $2 WHERE id = ("
        " SELECT id FROM face_resets WHERE citizen_id = $1 AND used_at IS NULL AND expires_at > $2"
        " ORDER BY created_at DESC LIMIT 1 FOR UPDATE) RETURNING id",
        citizen_id,
        at,
    )
    return value
