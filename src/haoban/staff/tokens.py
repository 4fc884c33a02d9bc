"""Staff access tokens: ES256 with the same keys as citizen tokens, but their own audience.

The citizen verifier pins `aud = haoban-api` and this one pins `aud = haoban-staff`,
so a staff token is never accepted as a citizen token, nor the other way round.
Staff tokens are short-lived and have no refresh: sign in again.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg
import jwt

from haoban.kit.errors import InvalidToken
from haoban.runtime import Runtime
from haoban.staff import repository as repo
from haoban.staff.schemas import StaffAccount, StaffPrincipal
from haoban.tokens import jwt as tokens_jwt

STAFF_AUDIENCE = "haoban-staff"
STAFF_CLIENT = "haoban-staff-console"
STAFF_ACR = "urn:haoban:loa:staff-password"
STAFF_TTL_S = 600


def lifetime_s(runtime: Runtime) -> int:
    return min(STAFF_TTL_S, runtime.settings.security.access_token_ttl_s)


async def issue(conn: asyncpg.Connection, runtime: Runtime, account: StaffAccount, now: datetime) -> str:
    kid, key = await runtime.keyring.signing_key(conn)
    iat = int(now.timestamp())
    claims: dict[str, Any] = {
        "iss": runtime.settings.security.issuer,
        "aud": STAFF_AUDIENCE,
        "sub": str(account.id),
        "client_id": STAFF_CLIENT,
        "iat": iat,
        "exp": iat + lifetime_s(runtime),
        "jti": uuid.uuid4().hex,
        "scope": "staff",
        "acr": STAFF_ACR,
        "amr": ["pwd"],
        "auth_time": iat,
        "sid": str(uuid.uuid4()),
    }
    return tokens_jwt.sign(claims, key, kid)


async def authenticate(runtime: Runtime, token: str) -> StaffPrincipal:
    """Verify a staff token and load the account: a disabled account or one without roles is refused."""
    now = runtime.clock.now()
    try:
        header = jwt.get_unverified_header(token)
        keys = await runtime.keyring.public_keys(runtime.pool, str(header.get("kid")))
        claims = tokens_jwt.verify(
            token, keys=keys, issuer=runtime.settings.security.issuer, audience=STAFF_AUDIENCE, now=now
        )
        if claims["client_id"] != STAFF_CLIENT or claims["acr"] != STAFF_ACR:
            raise tokens_jwt.TokenRejected("not a staff token")
        staff_id = uuid.UUID(claims["sub"])
    except (jwt.PyJWTError, tokens_jwt.TokenRejected, ValueError, TypeError, OverflowError):
        raise InvalidToken("The staff access token is invalid or expired.") from None
    account = await repo.by_id(runtime.pool, staff_id)
    if account is None or account.disabled_at is not None or not account.roles:
        raise InvalidToken("The staff account is disabled.")
    return StaffPrincipal(
        staff_id=account.id,
        username=account.username,
        citizen_id=account.citizen_id,
        id_number_hmac=account.id_number_hmac,
        roles=account.roles,
        token_id=str(claims["jti"]),
    )
