"""Delegated token families: what a client gets for a citizen's approval.

They reuse the foundation's token families and refresh tokens (same tables,
and the one rotation with its reuse rules: `TokenService.rotate_refresh`) but
differ from first-party sessions where it matters:
- access tokens have the audience `OAUTH_AUDIENCE`, so the first-party guard
  refuses them everywhere; only routes that opt in (`haoban.oauth.guard`) accept
  them, and those check scopes;
- `sub` is the pairwise subject of the client, never the internal citizen id;
- refresh tokens start `hbo_`, which the first-party refresh route does not
  accept, so they can only be rotated at /oauth/token, bound to their client.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from haoban.audit import service as audit
from haoban.audit.schemas import Actor
from haoban.oauth.errors import InvalidGrant, InvalidScope
from haoban.oauth.idtoken import pairwise_sub
from haoban.oauth.schemas import OAuthTokenResponse
from haoban.runtime import Runtime
from haoban.tokens import service as tokens
from haoban.tokens.schemas import Family, SessionGrant
from haoban.tokens.service import RefreshRefusal, RefreshRefused

OAUTH_AUDIENCE = "haoban-api:delegated"
REFRESH_PREFIX = "hbo_"


def refresh_hmac(runtime: Runtime, token: str) -> bytes:
    return runtime.tokens.refresh_hmac(token)


async def _access_token(
    conn: asyncpg.Connection, runtime: Runtime, *, family_id: uuid.UUID, grant: SessionGrant, now: datetime
) -> str:
    key = runtime.settings.security.token_hmac_key
    return await runtime.tokens.access_token(
        conn,
        family_id=family_id,
        grant=grant,
        now=now,
        audience=OAUTH_AUDIENCE,
        subject=pairwise_sub(key, citizen_id=grant.citizen_id, client_id=grant.client_id),
    )


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
    refresh = await runtime.tokens.new_refresh(conn, family_id, now, prefix=REFRESH_PREFIX)
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


_REFUSALS: dict[RefreshRefusal, str] = {
    "unknown": "The refresh token is not recognised.",
    "ended": "The grant has ended; ask the citizen again.",
    "reused": "The refresh token was already used; the grant is revoked.",
    "sandbox": "The grant was approved in a sandbox session, and the sandbox is off.",
}


async def _revoke_reused(conn: asyncpg.Connection, family: Family, now: datetime) -> None:
    await revoke(conn, family, now=now, reason="refresh_token_reuse")


async def rotate(
    conn: asyncpg.Connection, runtime: Runtime, *, client_id: str, token: str, scope: str | None
) -> OAuthTokenResponse | InvalidGrant:
    """Rotate a refresh token (tokens' rotation, bound to the client); a used one revokes its family (returned)."""
    now = runtime.clock.now()
    outcome = await runtime.tokens.rotate_refresh(
        conn,
        token,
        now=now,
        on_reuse=_revoke_reused,
        prefix=REFRESH_PREFIX,
        client_id=client_id,
        scope=scope,
    )
    if isinstance(outcome, RefreshRefused):
        if outcome.reason == "wider_scope":
            raise InvalidScope("A refresh cannot widen the approved scopes.")
        return InvalidGrant(_REFUSALS[outcome.reason])
    access = await _access_token(conn, runtime, family_id=outcome.family.id, grant=outcome.grant, now=now)
    return _response(runtime, access, outcome.refresh_token, outcome.grant.scope)


async def revoke(conn: asyncpg.Connection, family: Family, *, now: datetime, reason: str) -> None:
    if await tokens.revoke_family(conn, family.id, at=now, reason=reason):
        await audit.record(
            conn,
            actor=Actor(type="client", id=family.client_id),
            action="oauth.grant.revoked",
            subject_type="citizen",
            subject_id=str(family.citizen_id),
            at=now,
            details={"session_id": str(family.id), "client_id": family.client_id, "reason": reason},
        )
