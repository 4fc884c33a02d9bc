"""A guard for resource routes that accept delegated (OAuth client) tokens as well as first-party ones.

Routes opt in with `guards=SCOPED_GUARDS` and then call `require_scope(principal, "hpf.read")`.
A first-party token (audience `haoban-api`, the citizen's own app) counts as
holding every scope; a delegated token (audience `OAUTH_AUDIENCE`) holds exactly
the scopes the citizen approved. Routes on the plain `AUTH_GUARDS` keep refusing
delegated tokens, so nothing is exposed to clients by default.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import jwt
import msgspec
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard

from haoban.audit.schemas import Actor
from haoban.kit.errors import InvalidToken, Unauthorized
from haoban.oauth.grants import OAUTH_AUDIENCE
from haoban.oauth.scopes import CITIZEN_SCOPES
from haoban.runtime import Runtime
from haoban.tokens import jwt as tokens_jwt
from haoban.tokens import service as tokens
from haoban.tokens.guard import AUTH_DEPENDENCIES
from haoban.tokens.schemas import Principal

_CHALLENGE = 'Bearer realm="haoban"'
_KEY = "principal"  # what haboan.tokens.guard.provide_principal reads

SCOPED_DEPENDENCIES = AUTH_DEPENDENCIES


DELEGATED_ACR = "urn:haoban:loa:delegated"


def delegated_principal(
    claims: dict[str, Any], *, citizen_id: uuid.UUID, session_id: uuid.UUID, auth_time: datetime
) -> Principal:
    """A client acting for a citizen is never the citizen's own recent face verification.

    The grant's face `acr`/`amr` (from the approval) stay in the ID token, but the
    principal gets `acr` DELEGATED_ACR and `amr` ["delegated"], so `require_recent_face`
    refuses it: a payout a mini-program starts still needs the citizen's face in the app.
    """
    return Principal(
        citizen_id=citizen_id,
        client_id=str(claims["client_id"]),
        scope=tuple(str(claims["scope"]).split()),
        acr=DELEGATED_ACR,
        amr=("delegated",),
        auth_time=auth_time,
        session_id=session_id,
        token_id=str(claims["jti"]),
    )


async def verify_delegated(
    runtime: Runtime, token: str, db: asyncpg.Connection | asyncpg.Pool | None = None
) -> tuple[Principal, dict[str, Any]]:
    """Verify a delegated access token and that its grant is live; resolve the citizen behind the pairwise sub.

    Routes that already hold the request's connection pass it as `db`, never waiting on the pool for a second.
    """
    now = runtime.clock.now()
    db = runtime.pool if db is None else db
    try:
        header = jwt.get_unverified_header(token)
        keys = await runtime.keyring.public_keys(db, str(header.get("kid")))
        security = runtime.settings.security
        claims = tokens_jwt.verify(token, keys=keys, issuer=security.issuer, audience=OAUTH_AUDIENCE, now=now)
        session_id = uuid.UUID(claims["sid"])
        auth_time = datetime.fromtimestamp(int(claims["auth_time"]), UTC)
    except (jwt.PyJWTError, tokens_jwt.TokenRejected, ValueError, TypeError, OverflowError):
        raise InvalidToken("The access token is invalid or expired.") from None
    citizen_id = await tokens.live_grant_citizen(
        db, session_id, str(claims["client_id"]), now, sandbox=runtime.settings.sandbox
    )
    if citizen_id is None:
        raise InvalidToken("The grant has been revoked.")
    principal = delegated_principal(claims, citizen_id=citizen_id, session_id=session_id, auth_time=auth_time)
    return principal, claims


def _audience(token: str) -> object:
    try:
        return jwt.decode(token, options={"verify_signature": False}).get("aud")
    except jwt.PyJWTError:
        return None


async def scoped(connection: ASGIConnection[Any, Any, Any, State], _: BaseRouteHandler) -> None:
    runtime: Runtime = connection.app.state.runtime
    scheme, _sep, token = connection.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("A bearer access token is required.", headers={"WWW-Authenticate": _CHALLENGE})
    try:
        # Dispatch on the unverified audience only to pick the verifier; each one pins its own audience.
        if _audience(token) == OAUTH_AUDIENCE:
            principal, _claims = await verify_delegated(runtime, token)
        else:
            first_party = await runtime.tokens.authenticate(runtime.pool, token)
            principal = msgspec.structs.replace(
                first_party, scope=tuple(dict.fromkeys((*first_party.scope, *CITIZEN_SCOPES)))
            )
    except InvalidToken as exc:
        exc.headers["WWW-Authenticate"] = _CHALLENGE + ', error="invalid_token"'
        raise
    connection.scope.setdefault("state", {})[_KEY] = principal


def is_delegated(principal: Principal) -> bool:
    """A client acting for the citizen (an OAuth access token), not the citizen's own app."""
    return principal.acr == DELEGATED_ACR


def requester(principal: Principal) -> Actor:
    """Who the data-access log names: the OAuth client for a delegated token, else the citizen."""
    if is_delegated(principal):
        return Actor(type="client", id=principal.client_id)
    return Actor(type="citizen", id=str(principal.citizen_id))


SCOPED_GUARDS: list[Guard] = [scoped]
