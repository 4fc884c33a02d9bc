"""The token endpoint (RFC 6749 §3.2): authorization_code + PKCE, refresh_token, client_credentials.

Errors whose side effects must commit (revoking the tokens of a reused code or
refresh token) are returned, not raised, so the request's transaction commits.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import uuid
from typing import Any

import asyncpg
import msgspec

from haoban.audit import service as audit
from haoban.audit.schemas import Actor
from haoban.oauth import grants, idtoken
from haoban.oauth import repository as repo
from haoban.oauth.authorize import code_hmac
from haoban.oauth.errors import (
    InvalidGrant,
    InvalidRequest,
    OAuthError,
    UnauthorizedClient,
    UnsupportedGrantType,
)
from haoban.oauth.par import parse_scope
from haoban.oauth.schemas import Client, OAuthTokenResponse
from haoban.runtime import Runtime
from haoban.tokens import jwt as tokens_jwt
from haoban.tokens import service as tokens
from haoban.tokens.schemas import SessionGrant

VERIFIER = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")


def s256(verifier: str) -> str:
    """RFC 7636 §4.2: BASE64URL(SHA256(ASCII(code_verifier)))."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


async def exchange(
    conn: asyncpg.Connection, runtime: Runtime, client: Client, params: dict[str, str]
) -> OAuthTokenResponse | OAuthError:
    grant_type = params.get("grant_type")
    if grant_type == "authorization_code":
        return await _authorization_code(conn, runtime, client, params)
    if grant_type == "refresh_token":
        return await _refresh(conn, runtime, client, params)
    if grant_type == "client_credentials":
        return await _client_credentials(conn, runtime, client, params)
    if not grant_type:
        raise InvalidRequest("The grant_type parameter is required.")
    raise UnsupportedGrantType(f"grant_type {grant_type!r} is not supported.")


async def _authorization_code(
    conn: asyncpg.Connection, runtime: Runtime, client: Client, params: dict[str, str]
) -> OAuthTokenResponse | OAuthError:
    security = runtime.settings.security
    now = runtime.clock.now()
    code = params.get("code") or ""
    if not code:
        raise InvalidRequest("The code parameter is required.")
    digest = code_hmac(security.token_hmac_key, code)
    row = await repo.lock_code(conn, digest)
    if row is None:
        raise InvalidGrant("The authorization code is not recognised.")
    if row.redeemed_at is not None:
        # RFC 6749 §4.1.2 / OAuth 2.1: refuse and revoke what the first redemption issued.
        if row.family_id is not None and await tokens.revoke_family(conn, row.family_id, at=now, reason="code_reuse"):
            await audit.record(
                conn,
                actor=Actor(type="client", id=client.client_id),
                action="oauth.code.reused",
                subject_type="citizen",
                subject_id=str(row.citizen_id),
                at=now,
                details={"client_id": row.client_id, "session_id": str(row.family_id)},
            )
        return InvalidGrant("The authorization code was already used; its tokens are revoked.")
    if row.client_id != client.client_id:
        raise InvalidGrant("The authorization code was issued to another client.")
    if row.expires_at <= now:
        raise InvalidGrant("The authorization code has expired.")
    if params.get("redirect_uri") != row.redirect_uri:
        raise InvalidGrant("The redirect_uri does not match the authorization request.")
    verifier = params.get("code_verifier") or ""
    if not VERIFIER.match(verifier) or not hmac.compare_digest(s256(verifier), row.code_challenge):
        raise InvalidGrant("The code_verifier does not match the code_challenge.")
    grant = SessionGrant(
        citizen_id=row.citizen_id,
        client_id=client.client_id,
        scope=tuple(row.scope),
        acr=row.acr,
        amr=tuple(row.amr),
        auth_time=row.auth_time,
    )
    response, family_id = await grants.issue(conn, runtime, grant)
    await repo.mark_code_redeemed(conn, digest, at=now, family_id=family_id)
    id_token = None
    if "openid" in row.scope:
        kid, key = await runtime.keyring.signing_key(conn)
        id_token = idtoken.sign_id_token(
            key=key,
            kid=kid,
            issuer=security.issuer,
            client_id=client.client_id,
            sub=idtoken.pairwise_sub(security.token_hmac_key, citizen_id=row.citizen_id, client_id=client.client_id),
            now=now,
            auth_time=row.auth_time,
            acr=row.acr,
            amr=list(row.amr),
            nonce=row.nonce,
            sid=str(family_id),
        )
    return msgspec.structs.replace(response, id_token=id_token)


async def _refresh(
    conn: asyncpg.Connection, runtime: Runtime, client: Client, params: dict[str, str]
) -> OAuthTokenResponse | OAuthError:
    token = params.get("refresh_token") or ""
    if not token:
        raise InvalidRequest("The refresh_token parameter is required.")
    return await grants.rotate(conn, runtime, client_id=client.client_id, token=token, scope=params.get("scope"))


async def _client_credentials(
    conn: asyncpg.Connection, runtime: Runtime, client: Client, params: dict[str, str]
) -> OAuthTokenResponse:
    if client.client_type != "confidential":
        raise UnauthorizedClient("client_credentials is for confidential clients only.")
    security = runtime.settings.security
    scope = parse_scope(params.get("scope"), client.allowed_scopes) if params.get("scope") else client.allowed_scopes
    now = runtime.clock.now()
    kid, key = await runtime.keyring.signing_key(conn)
    iat = int(now.timestamp())
    # No `sid`: the citizen guard refuses these tokens; they speak for the client, not a citizen.
    claims: dict[str, Any] = {
        "iss": security.issuer,
        "aud": security.api_audience,
        "sub": client.client_id,
        "client_id": client.client_id,
        "iat": iat,
        "exp": iat + security.access_token_ttl_s,
        "jti": uuid.uuid4().hex,
        "scope": " ".join(scope),
    }
    return OAuthTokenResponse(
        access_token=tokens_jwt.sign(claims, key, kid),
        token_type="Bearer",  # noqa: S106 (a token type)
        expires_in=security.access_token_ttl_s,
        scope=" ".join(scope),
    )
