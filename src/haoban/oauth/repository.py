"""SQL for OAuth clients, pushed requests, codes and approvals."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

from haoban.oauth.schemas import Approval, Client, CodeRow, ParRequest

Executor = asyncpg.Connection | asyncpg.Pool

_GET_CLIENT = (
    "SELECT client_id, client_type, secret_hmac, display_name, purpose, redirect_uris, allowed_scopes, disabled_at"
    " FROM oauth_clients WHERE client_id = $1"
)


async def upsert_client(
    conn: asyncpg.Connection,
    *,
    client_id: str,
    client_type: str,
    secret_hmac: bytes | None,
    display_name: str,
    purpose: str,
    redirect_uris: list[str],
    allowed_scopes: list[str],
    now: datetime,
) -> bool:
    """Insert or replace a client; True when it was new."""
    inserted = await conn.fetchval(
        """
        INSERT INTO oauth_clients
            (client_id, client_type, secret_hmac, display_name, purpose, redirect_uris, allowed_scopes, created_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        ON CONFLICT (client_id) DO UPDATE SET
            client_type = EXCLUDED.client_type, secret_hmac = EXCLUDED.secret_hmac,
            display_name = EXCLUDED.display_name, purpose = EXCLUDED.purpose,
            redirect_uris = EXCLUDED.redirect_uris, allowed_scopes = EXCLUDED.allowed_scopes
        RETURNING (xmax = 0)
        """,
        client_id,
        client_type,
        secret_hmac,
        display_name,
        purpose,
        redirect_uris,
        allowed_scopes,
        now,
    )
    return bool(inserted)


async def get_client(conn: Executor, client_id: str) -> Client | None:
    row = await conn.fetchrow(
        _GET_CLIENT,
        client_id,
    )
    return None if row is None else msgspec.convert(dict(row), Client)


async def insert_par(
    conn: asyncpg.Connection,
    *,
    id_hmac: bytes,
    client_id: str,
    redirect_uri: str,
    scope: list[str],
    state: str,
    nonce: str | None,
    code_challenge: str,
    created_at: datetime,
    expires_at: datetime,
) -> None:
    await conn.execute(
        """
        INSERT INTO oauth_par_requests
            (id_hmac, client_id, redirect_uri, scope, state, nonce, code_challenge, created_at, expires_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        """,
        id_hmac,
        client_id,
        redirect_uri,
        scope,
        state,
        nonce,
        code_challenge,
        created_at,
        expires_at,
    )


_GET_PAR = (
    "SELECT client_id, redirect_uri, scope, state, nonce, code_challenge, expires_at, used_at"
    " FROM oauth_par_requests WHERE id_hmac = $1"
)


async def get_par(conn: asyncpg.Connection, id_hmac: bytes, *, for_update: bool = False) -> ParRequest | None:
    row = await conn.fetchrow(_GET_PAR + (" FOR UPDATE" if for_update else ""), id_hmac)
    return None if row is None else msgspec.convert(dict(row), ParRequest)


async def mark_par_used(conn: asyncpg.Connection, id_hmac: bytes, at: datetime) -> None:
    await conn.execute("UPDATE oauth_par_requests SET used_at = $2 WHERE id_hmac = $1", id_hmac, at)


async def insert_code(
    conn: asyncpg.Connection,
    *,
    code_hmac: bytes,
    par: ParRequest,
    citizen_id: UUID,
    acr: str,
    amr: list[str],
    auth_time: datetime,
    issued_at: datetime,
    expires_at: datetime,
) -> None:
    await conn.execute(
        """
        INSERT INTO oauth_codes
            (code_hmac, client_id, citizen_id, redirect_uri, scope, nonce, code_challenge,
             acr, amr, auth_time, issued_at, expires_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
        """,
        code_hmac,
        par.client_id,
        citizen_id,
        par.redirect_uri,
        par.scope,
        par.nonce,
        par.code_challenge,
        acr,
        amr,
        auth_time,
        issued_at,
        expires_at,
    )


_LOCK_CODE = (
    "SELECT client_id, citizen_id, redirect_uri, scope, nonce, code_challenge, acr, amr, auth_time,"
    " expires_at, redeemed_at, family_id FROM oauth_codes WHERE code_hmac = $1 FOR UPDATE"
)


async def lock_code(conn: asyncpg.Connection, code_hmac: bytes) -> CodeRow | None:
    row = await conn.fetchrow(
        _LOCK_CODE,
        code_hmac,
    )
    return None if row is None else msgspec.convert(dict(row), CodeRow)


async def mark_code_redeemed(conn: asyncpg.Connection, code_hmac: bytes, *, at: datetime, family_id: UUID) -> None:
    await conn.execute(
        "UPDATE oauth_codes SET redeemed_at = $2, family_id = $3 WHERE code_hmac = $1", code_hmac, at, family_id
    )


async def remember_approval(
    conn: asyncpg.Connection, *, citizen_id: UUID, client_id: str, scope: list[str], at: datetime
) -> None:
    await conn.execute(
        """
        INSERT INTO oauth_approvals (citizen_id, client_id, scope, scope_key, approved_at)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (citizen_id, client_id, scope_key) DO UPDATE SET approved_at = EXCLUDED.approved_at
        """,
        citizen_id,
        client_id,
        scope,
        " ".join(sorted(scope)),
        at,
    )


async def list_approvals(conn: asyncpg.Connection, citizen_id: UUID) -> list[Approval]:
    rows = await conn.fetch(
        """
        SELECT a.client_id, c.display_name AS client_name, c.purpose, a.scope AS scopes, a.approved_at
        FROM oauth_approvals a JOIN oauth_clients c ON c.client_id = a.client_id
        WHERE a.citizen_id = $1
        ORDER BY a.approved_at DESC, a.client_id
        """,
        citizen_id,
    )
    return [msgspec.convert(dict(r), Approval) for r in rows]


async def delete_approvals(conn: asyncpg.Connection, *, citizen_id: UUID, client_id: str) -> int:
    status = await conn.execute(
        "DELETE FROM oauth_approvals WHERE citizen_id = $1 AND client_id = $2", citizen_id, client_id
    )
    return int(status.split()[-1])


# --- revoked client-credentials tokens ------------------------------------------


async def deny_token(conn: asyncpg.Connection, *, jti: str, client_id: str, at: datetime, expires_at: datetime) -> bool:
    """Put a client-credentials token on the deny-list; False when it already was."""
    status = await conn.execute(
        "INSERT INTO oauth_revoked_tokens (jti, client_id, revoked_at, expires_at) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (jti) DO NOTHING",
        jti,
        client_id,
        at,
        expires_at,
    )
    return bool(status == "INSERT 0 1")


async def purge_denied(conn: asyncpg.Connection, before: datetime) -> None:
    """Forget revoked tokens that expired long ago (the guard refuses them by `exp` anyway)."""
    await conn.execute("DELETE FROM oauth_revoked_tokens WHERE expires_at < $1", before)


async def token_denied(db: Executor, jti: str) -> bool:
    return bool(await db.fetchval("SELECT EXISTS (SELECT 1 FROM oauth_revoked_tokens WHERE jti = $1)", jti))


# --- consents created by approvals (scope `profile`) ------------------------------


async def live_approval_consent(
    conn: asyncpg.Connection, *, citizen_id: UUID, client_id: str, now: datetime
) -> UUID | None:
    value = await conn.fetchval(
        """
        SELECT a.consent_id FROM oauth_approval_consents a JOIN consents c ON c.id = a.consent_id
        WHERE a.citizen_id = $1 AND a.client_id = $2 AND c.revoked_at IS NULL
          AND (c.expires_at IS NULL OR c.expires_at > $3)
        LIMIT 1
        """,
        citizen_id,
        client_id,
        now,
    )
    return None if value is None else UUID(str(value))


async def track_approval_consent(
    conn: asyncpg.Connection, *, citizen_id: UUID, client_id: str, consent_id: UUID, at: datetime
) -> None:
    await conn.execute(
        "INSERT INTO oauth_approval_consents (citizen_id, client_id, consent_id, created_at) VALUES ($1, $2, $3, $4)",
        citizen_id,
        client_id,
        consent_id,
        at,
    )


async def approval_consents(conn: asyncpg.Connection, *, citizen_id: UUID, client_id: str) -> list[UUID]:
    rows = await conn.fetch(
        """
        SELECT a.consent_id FROM oauth_approval_consents a JOIN consents c ON c.id = a.consent_id
        WHERE a.citizen_id = $1 AND a.client_id = $2 AND c.revoked_at IS NULL
        ORDER BY a.created_at
        """,
        citizen_id,
        client_id,
    )
    return [UUID(str(r["consent_id"])) for r in rows]
