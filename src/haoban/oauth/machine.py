"""Client-credentials access tokens: a confidential client speaking for itself (department systems).

They have the first-party audience but `sub` = `client_id` and no `sid`, so the
citizen guards refuse them (no session, no `acr`); only routes that call
`verify_client_token` accept them, and those check an `ingest.<source>` scope.
The client must still be registered and enabled: disabling a client ends its
tokens at once. A token the client revoked (RFC 7009) is on a deny-list by `jti`
until it would have expired.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg
import jwt
import msgspec

from haoban.kit.errors import InvalidToken
from haoban.oauth import repository as repo
from haoban.runtime import Runtime
from haoban.tokens import jwt as tokens_jwt

REQUIRED = ("iss", "aud", "sub", "exp", "iat", "jti", "scope", "client_id")
LEEWAY_S = 30


class ClientPrincipal(msgspec.Struct, frozen=True, kw_only=True):
    client_id: str
    scope: tuple[str, ...]
    token_id: str
    expires_at: datetime


def looks_like_jwt(token: str) -> bool:
    """Decides only which verifier runs (a department secret is never a JWT); nothing is trusted from it."""
    if token.count(".") != 2:
        return False
    try:
        jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        return False
    return True


def _claims(token: str, keys: dict[str, Any], *, issuer: str, audience: str, now_ts: float) -> dict[str, Any]:
    header = jwt.get_unverified_header(token)
    if header.get("alg") != tokens_jwt.ALGORITHM or header.get("typ") != tokens_jwt.ACCESS_TYP:
        raise InvalidToken("The access token is invalid or expired.")
    key = keys.get(str(header.get("kid")))
    if key is None:
        raise InvalidToken("The access token is invalid or expired.")
    claims: dict[str, Any] = jwt.decode(
        token,
        key,
        algorithms=[tokens_jwt.ALGORITHM],
        audience=audience,
        issuer=issuer,
        options={"require": list(REQUIRED), "verify_exp": False, "verify_iat": False, "verify_nbf": False},
    )
    if not isinstance(claims["exp"], int) or claims["exp"] <= now_ts - LEEWAY_S:
        raise InvalidToken("The access token is invalid or expired.")
    if not isinstance(claims["iat"], int) or claims["iat"] > now_ts + LEEWAY_S:
        raise InvalidToken("The access token is invalid or expired.")
    if "sid" in claims or claims["sub"] != claims["client_id"] or not isinstance(claims["scope"], str):
        raise InvalidToken("A client-credentials access token is required.")
    return claims


async def verify_client_token(
    runtime: Runtime, token: str, db: asyncpg.Connection | asyncpg.Pool | None = None
) -> ClientPrincipal:
    """Verify a client-credentials token, that it was not revoked, and that its client is still enabled."""
    db = runtime.pool if db is None else db
    security = runtime.settings.security
    try:
        keys = await runtime.keyring.public_keys(db, str(jwt.get_unverified_header(token).get("kid")))
        claims = _claims(
            token,
            keys,
            issuer=security.issuer,
            audience=security.api_audience,
            now_ts=runtime.clock.now().timestamp(),
        )
    except (jwt.PyJWTError, ValueError, TypeError, OverflowError):
        raise InvalidToken("The access token is invalid or expired.") from None
    client = await repo.get_client(db, str(claims["client_id"]))
    if client is None or client.client_type != "confidential" or client.disabled_at is not None:
        raise InvalidToken("The client is not registered or is disabled.")
    if await repo.token_denied(db, str(claims["jti"])):
        raise InvalidToken("The access token has been revoked.")
    return ClientPrincipal(
        client_id=client.client_id,
        scope=tuple(str(claims["scope"]).split()),
        token_id=str(claims["jti"]),
        expires_at=datetime.fromtimestamp(claims["exp"], UTC),
    )
