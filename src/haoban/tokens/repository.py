"""SQL for signing keys, token families and refresh tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from haoban.tokens.schemas import Family, RefreshRow, SessionBinding, SigningKey


def _key(row: asyncpg.Record) -> SigningKey:
    return msgspec.convert(dict(row), SigningKey)


async def usable_keys(conn: asyncpg.Connection | asyncpg.Pool, now: datetime) -> list[SigningKey]:
    """The active key and retiring keys still inside their grace period."""
    rows = await conn.fetch(
        "SELECT kid, status, private_key_enc, public_jwk, created_at, retire_after FROM signing_keys"
        " WHERE status = 'active' OR (status = 'retiring' AND retire_after > $1)"
        " ORDER BY created_at DESC",
        now,
    )
    return [_key(r) for r in rows]


async def lock_keys(conn: asyncpg.Connection) -> None:
    await conn.execute("LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE")


async def retire_active(conn: asyncpg.Connection, *, retire_after: datetime) -> list[str]:
    rows = await conn.fetch(
        "UPDATE signing_keys SET status = 'retiring', retire_after = $1 WHERE status = 'active' RETURNING kid",
        retire_after,
    )
    return [r["kid"] for r in rows]


async def retire_expired(conn: asyncpg.Connection, now: datetime) -> list[str]:
    rows = await conn.fetch(
        "UPDATE signing_keys SET status = 'retired' WHERE status = 'retiring' AND retire_after <= $1 RETURNING kid",
        now,
    )
    return [r["kid"] for r in rows]


async def insert_key(
    conn: asyncpg.Connection, *, kid: str, private_key_enc: str, public_jwk: dict[str, Any], created_at: datetime
) -> None:
    await conn.execute(
        "INSERT INTO signing_keys (kid, alg, private_key_enc, public_jwk, status, created_at)"
        " VALUES ($1, 'ES256', $2, $3, 'active', $4)",
        kid,
        private_key_enc,
        public_jwk,
        created_at,
    )


async def insert_family(
    conn: asyncpg.Connection,
    *,
    family_id: UUID,
    citizen_id: UUID,
    client_id: str,
    scope: str,
    acr: str,
    amr: list[str],
    auth_time: datetime,
    created_at: datetime,
    expires_at: datetime,
) -> None:
    await conn.execute(
        """
        INSERT INTO token_families
            (id, citizen_id, client_id, scope, acr, amr, auth_time, created_at, expires_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        """,
        family_id,
        citizen_id,
        client_id,
        scope,
        acr,
        amr,
        auth_time,
        created_at,
        expires_at,
    )


async def insert_refresh(
    conn: asyncpg.Connection, *, token_id: UUID, family_id: UUID, token_hmac: bytes, issued_at: datetime
) -> None:
    await conn.execute(
        "INSERT INTO refresh_tokens (id, family_id, token_hmac, issued_at) VALUES ($1, $2, $3, $4)",
        token_id,
        family_id,
        token_hmac,
        issued_at,
    )


async def lock_refresh(conn: asyncpg.Connection, token_hmac: bytes) -> RefreshRow | None:
    row = await conn.fetchrow(
        "SELECT id, family_id, used_at FROM refresh_tokens WHERE token_hmac = $1 FOR UPDATE",
        token_hmac,
    )
    return None if row is None else RefreshRow(id=row["id"], family_id=row["family_id"], used_at=row["used_at"])


async def mark_refresh_used(conn: asyncpg.Connection, token_id: UUID, at: datetime) -> None:
    await conn.execute("UPDATE refresh_tokens SET used_at = $2 WHERE id = $1", token_id, at)


_GET_FAMILY = (
    "SELECT id, citizen_id, client_id, scope, acr, amr, auth_time, expires_at, revoked_at FROM token_families"
    " WHERE id = $1"
)


async def get_family(conn: asyncpg.Connection, family_id: UUID, *, for_update: bool = False) -> Family | None:
    row = await conn.fetchrow(_GET_FAMILY + (" FOR UPDATE" if for_update else ""), family_id)
    return None if row is None else msgspec.convert(dict(row), Family)


async def revoke_family(conn: asyncpg.Connection, family_id: UUID, *, at: datetime, reason: str) -> bool:
    status = await conn.execute(
        "UPDATE token_families SET revoked_at = $2, revoke_reason = $3 WHERE id = $1 AND revoked_at IS NULL",
        family_id,
        at,
        reason,
    )
    return bool(status.endswith(" 1"))


async def live_session(
    pool: asyncpg.Pool | asyncpg.Connection, family_id: UUID, now: datetime
) -> SessionBinding | None:
    """One indexed lookup: the session if it is unrevoked, unexpired and its citizen active."""
    row = await pool.fetchrow(
        """
        SELECT f.citizen_id, f.client_id, f.acr, f.amr, f.auth_time
        FROM token_families f JOIN citizens c ON c.id = f.citizen_id
        WHERE f.id = $1 AND f.revoked_at IS NULL AND f.expires_at > $2 AND c.status = 'active'
        """,
        family_id,
        now,
    )
    return None if row is None else msgspec.convert(dict(row), SessionBinding)


async def revoke_client_families(
    conn: asyncpg.Connection, *, citizen_id: UUID, client_id: str, at: datetime, reason: str
) -> int:
    status = await conn.execute(
        """
        UPDATE token_families SET revoked_at = $3, revoke_reason = $4
        WHERE citizen_id = $1 AND client_id = $2 AND revoked_at IS NULL
        """,
        citizen_id,
        client_id,
        at,
        reason,
    )
    return int(status.split()[-1])


async def live_grant_citizen(
    pool: asyncpg.Connection | asyncpg.Pool, family_id: UUID, client_id: str, now: datetime, *, sandbox: bool
) -> UUID | None:
    """The citizen behind a delegated token while its grant is live, its client's, and the citizen active.

    A grant approved in a sandbox session (amr `sandbox`) is live only while the sandbox is on.
    """
    value = await pool.fetchval(
        """
        SELECT f.citizen_id FROM token_families f JOIN citizens c ON c.id = f.citizen_id
        WHERE f.id = $1 AND f.client_id = $2 AND f.revoked_at IS NULL AND f.expires_at > $3 AND c.status = 'active'
          AND ($4::boolean OR NOT 'sandbox' = ANY(f.amr))
        """,
        family_id,
        client_id,
        now,
        sandbox,
    )
    return None if value is None else UUID(str(value))
