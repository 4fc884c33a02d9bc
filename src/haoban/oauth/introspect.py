"""RFC 7662 introspection for authenticated confidential clients, about their own tokens only."""

from __future__ import annotations

import asyncpg
import jwt

from haoban.kit.errors import InvalidToken
from haoban.oauth import grants
from haoban.oauth import repository as repo
from haoban.oauth.guard import verify_delegated
from haoban.oauth.idtoken import pairwise_sub
from haoban.oauth.schemas import Client, Introspection
from haoban.runtime import Runtime
from haoban.tokens import jwt as tokens_jwt
from haoban.tokens import service as tokens

INACTIVE = Introspection(active=False)


async def _client_credentials_token(
    conn: asyncpg.Connection, runtime: Runtime, client: Client, token: str
) -> Introspection:
    security = runtime.settings.security
    try:
        header = jwt.get_unverified_header(token)
        if header.get("typ") != tokens_jwt.ACCESS_TYP:
            return INACTIVE
        keys = await runtime.keyring.public_keys(conn, str(header.get("kid")))
        key = keys.get(str(header.get("kid")))
        if key is None:
            return INACTIVE
        claims = jwt.decode(
            token,
            key,
            algorithms=[tokens_jwt.ALGORITHM],
            audience=security.api_audience,
            issuer=security.issuer,
            options={"require": ["exp", "iat", "sub", "client_id", "scope", "jti"]},
        )
    except jwt.PyJWTError:
        return INACTIVE
    if "sid" in claims or claims["client_id"] != client.client_id or claims["sub"] != client.client_id:
        return INACTIVE
    if await repo.token_denied(conn, str(claims["jti"])):  # revoked by the client (RFC 7009)
        return INACTIVE
    return Introspection(
        active=True,
        scope=str(claims["scope"]),
        client_id=client.client_id,
        token_type="Bearer",  # noqa: S106 (a token type)
        exp=int(claims["exp"]),
        iat=int(claims["iat"]),
        sub=client.client_id,
        aud=security.api_audience,
        iss=security.issuer,
    )


async def _refresh_token(conn: asyncpg.Connection, runtime: Runtime, client: Client, token: str) -> Introspection:
    security = runtime.settings.security
    now = runtime.clock.now()
    row = await tokens.locked_refresh(conn, grants.refresh_hmac(runtime, token))
    family = None if row is None else await tokens.get_family(conn, row.family_id)
    if row is None or family is None or row.used_at is not None or family.client_id != client.client_id:
        return INACTIVE
    if family.revoked_at is not None or family.expires_at <= now:
        return INACTIVE
    return Introspection(
        active=True,
        scope=family.scope,
        client_id=family.client_id,
        token_type="refresh_token",  # noqa: S106 (a token type)
        exp=int(family.expires_at.timestamp()),
        sub=pairwise_sub(security.token_hmac_key, citizen_id=family.citizen_id, client_id=family.client_id),
        iss=security.issuer,
    )


async def introspect(conn: asyncpg.Connection, runtime: Runtime, client: Client, token: str) -> Introspection:
    security = runtime.settings.security
    if not token or len(token) > 4096:
        return INACTIVE
    if token.startswith(grants.REFRESH_PREFIX):
        return await _refresh_token(conn, runtime, client, token)
    try:
        principal, claims = await verify_delegated(runtime, token, conn)
    except InvalidToken:
        return await _client_credentials_token(conn, runtime, client, token)
    if principal.client_id != client.client_id:
        return INACTIVE
    return Introspection(
        active=True,
        scope=" ".join(principal.scope),
        client_id=principal.client_id,
        token_type="Bearer",  # noqa: S106 (a token type)
        exp=int(claims["exp"]),
        iat=int(claims["iat"]),
        sub=str(claims["sub"]),
        aud=grants.OAUTH_AUDIENCE,
        iss=security.issuer,
    )
