"""Delegated token families: what a client gets for a citizen's approval.

They reuse the foundation's token families and refresh tokens (same tables,
same rotation and reuse rules) but differ from first-party sessions where it
matters:
- access tokens have the audience `OAUTH_AUDIENCE`, so the first-party guard
  refuses them everywhere; only routes that opt in (`haoban.oauth.guard`) accept
  them, and those check scopes;
- `sub` is the pairwise subject of the client, never the internal citizen id;
- refresh tokens start `hbo_`, which the first-party refresh route does not
  accept, so they can only be rotated at /oauth/token, bound to their client.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime

import asyncpg

from haoban.audit import service as audit
from haoban.audit.schemas import Actor
from haoban.kit.crypto import keyed_hash
from haoban.oauth.errors import InvalidGrant, InvalidScope
from haoban.oauth.idtoken import pairwise_sub
from haoban.oauth.schemas import OAuthTokenResponse
from haoban.runtime import Runtime
from haoban.tokens import jwt as tokens_jwt
from haoban.tokens import repository as tokens_repo
from haoban.tokens.schemas import Family, SessionGrant

OAUTH_AUDIENCE = "haoban-api:delegated"
REFRESH_PREFIX = "hbo_"


def refresh_hmac(runtime: Runtime, token: str) -> bytes:
    return keyed_hash(runtime.settings.security.token_hmac_key, token)


async def _access_token(
    conn: asyncpg.Connection, runtime: Runtime, *, family_id: uuid.UUID, grant: SessionGrant, now: datetime
) -> str:
    security = runtime.settings.security
    kid, key = await runtime.keyring.signing_key(conn)
    iat = int(now.timestamp())
    claims = {
        "iss": security.issuer,
        "aud": OAUTH_AUDIENCE,
        "sub": pairwise_sub(security.token_hmac_key, citizen_id=grant.citizen_id, client_id=grant.client_id),
        "client_id": grant.client_id,
        "iat": iat,
        "exp": iat + security.access_token_ttl_s,
        "jti": uuid.uuid4().hex,
        "scope": " ".join(grant.scope),
        "acr": grant.acr,
        "amr": list(grant.amr),
        "auth_time": int(grant.auth_time.timestamp()),
        "sid": str(family_id),
    }
    return tokens_jwt.sign(claims, key, kid)


async def _new_refresh(conn: asyncpg.Connection, runtime: Runtime, family_id: uuid.UUID, now: datetime) -> str:
    token = REFRESH_PREFIX + secrets.token_urlsafe(32)
    await tokens_repo.insert_refresh(
        conn, token_id=uuid.uuid4(), family_id=family_id, token_hmac=refresh_hmac(runtime, token), issued_at=now
    )
    return token


def _response(runtime: Runtime, access: str, refresh: str, scope: tuple[str, ...]) -> OAuthTokenResponse:
    return OAuthTokenResponse(
        access_token=access,
        token_type="Bearer",  # noqa: S106 (a token type)
        expires_in=runtime.settings.security.access_token_ttl_s,
        scope=" ".join(scope),
        refresh_token=refresh,
    )


async def issue(
    conn: asyncpg.Connection, runtime: Runtime, grant: SessionGrant
) -> tuple[OAuthTokenResponse, uuid.UUID]:
    """A new family for an approved code; the absolute lifetime is the refresh TTL."""
    now = runtime.clock.now()
    family_id, _ = await runtime.tokens.open_family(conn, grant, now)
    refresh = await _new_refresh(conn, runtime, family_id, now)
    access = await _access_token(conn, runtime, family_id=family_id, grant=grant, now=now)
    await audit.record(
        conn,
        actor=Actor(type="client", id=grant.client_id),
        action="oauth.tokens.issued",
        subject_type="citizen",
        subject_id=str(grant.citizen_id),
        at=now,
        details={"session_id": str(family_id), "client_id": grant.client_id, "scope": list(grant.scope)},
    )
    return _response(runtime, access, refresh, grant.scope), family_id


async def rotate(
    conn: asyncpg.Connection, runtime: Runtime, *, client_id: str, token: str, scope: str | None
) -> OAuthTokenResponse | InvalidGrant:
    """Rotate a refresh token; a used one revokes its family (returned, so that commits)."""
    now = runtime.clock.now()
    row = await tokens_repo.lock_refresh(conn, refresh_hmac(runtime, token))
    if row is None or not token.startswith(REFRESH_PREFIX):
        return InvalidGrant("The refresh token is not recognised.")
    family = await tokens_repo.get_family(conn, row.family_id, for_update=True)
    if family is None or family.client_id != client_id:
        # Another client's token: refused, and not revoked (the caller may be the thief).
        return InvalidGrant("The refresh token is not recognised.")
    if family.revoked_at is not None or family.expires_at <= now:
        return InvalidGrant("The grant has ended; ask the citizen again.")
    if row.used_at is not None:
        await revoke(conn, family, now=now, reason="refresh_token_reuse")
        return InvalidGrant("The refresh token was already used; the grant is revoked.")
    if scope is not None and not set(scope.split()) <= set(family.scope.split()):
        raise InvalidScope("A refresh cannot widen the approved scopes.")
    await tokens_repo.mark_refresh_used(conn, row.id, now)
    grant = SessionGrant(
        citizen_id=family.citizen_id,
        client_id=family.client_id,
        scope=tuple(family.scope.split()),
        acr=family.acr,
        amr=tuple(family.amr),
        auth_time=family.auth_time,
    )
    refresh = await _new_refresh(conn, runtime, family.id, now)
    access = await _access_token(conn, runtime, family_id=family.id, grant=grant, now=now)
    return _response(runtime, access, refresh, grant.scope)


async def revoke(conn: asyncpg.Connection, family: Family, *, now: datetime, reason: str) -> None:
    if await tokens_repo.revoke_family(conn, family.id, at=now, reason=reason):
        await audit.record(
            conn,
            actor=Actor(type="client", id=family.client_id),
            action="oauth.grant.revoked",
            subject_type="citizen",
            subject_id=str(family.citizen_id),
            at=now,
            details={"session_id": str(family.id), "client_id": family.client_id, "reason": reason},
        )
