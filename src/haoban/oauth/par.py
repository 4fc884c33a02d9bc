"""RFC 9126 pushed authorization requests, validated in full before anything is stored.

Nothing here ever redirects: a bad redirect URI, client or parameter is an error
to the caller that pushed the request, never a redirect to an unchecked address.
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

import asyncpg

from haoban.kit.clock import Clock
from haoban.kit.crypto import keyed_hash
from haoban.oauth import repository as repo
from haoban.oauth.errors import InvalidRedirectUri, InvalidRequest, InvalidScope, UnsupportedResponseType
from haoban.oauth.schemas import REQUEST_URI_PREFIX, Client, ParRequest, ParResponse
from haoban.oauth.scopes import CONFIDENTIAL_ONLY_SCOPES

PAR_TTL_S = 60
CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")  # BASE64URL(SHA-256) without padding
_MAX_PARAM = 512


def request_uri_hmac(hmac_key: bytes, request_uri: str) -> bytes:
    return keyed_hash(hmac_key, f"oauth-par:{request_uri}")


def _one(params: dict[str, str], name: str, *, required: bool = True) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise InvalidRequest(f"The {name} parameter is required.")
        return None
    if len(value) > _MAX_PARAM:
        raise InvalidRequest(f"The {name} parameter is too long.")
    return value


def parse_scope(raw: str | None, allowed: list[str]) -> list[str]:
    scopes = list(dict.fromkeys((raw or "").split()))
    if not scopes:
        raise InvalidScope("At least one scope is required.")
    outside = [s for s in scopes if s not in allowed]
    if outside:
        raise InvalidScope(f"Scopes not allowed for this client: {' '.join(outside)}.")
    return scopes


def validate(client: Client, params: dict[str, str]) -> tuple[str, list[str], str, str | None, str]:
    """Check an authorization request; returns (redirect_uri, scope, state, nonce, code_challenge)."""
    if "request_uri" in params or "request" in params:
        raise InvalidRequest("Request objects and nested request_uri are not accepted here.")
    redirect_uri = _one(params, "redirect_uri")
    if redirect_uri not in client.redirect_uris:  # exact string match, RFC 9700 §4.1.3
        raise InvalidRedirectUri("The redirect_uri is not registered for this client.")
    response_type = _one(params, "response_type")
    if response_type != "code":
        raise UnsupportedResponseType("Only response_type=code is supported.")
    method = params.get("code_challenge_method")
    if method != "S256":
        raise InvalidRequest("code_challenge_method must be S256.")
    challenge = _one(params, "code_challenge")
    if challenge is None or not CHALLENGE.match(challenge):
        raise InvalidRequest("code_challenge must be BASE64URL(SHA-256(code_verifier)).")
    state = _one(params, "state")
    nonce = _one(params, "nonce", required=False)
    # A citizen cannot delegate what only a department system may hold (ingest.*).
    delegable = [s for s in client.allowed_scopes if s not in CONFIDENTIAL_ONLY_SCOPES]
    scope = parse_scope(params.get("scope"), delegable)
    return str(redirect_uri), scope, str(state), nonce, challenge


async def push(
    conn: asyncpg.Connection, *, client: Client, params: dict[str, str], hmac_key: bytes, clock: Clock
) -> ParResponse:
    redirect_uri, scope, state, nonce, challenge = validate(client, params)
    now = clock.now()
    request_uri = REQUEST_URI_PREFIX + secrets.token_urlsafe(32)
    await repo.insert_par(
        conn,
        id_hmac=request_uri_hmac(hmac_key, request_uri),
        client_id=client.client_id,
        redirect_uri=redirect_uri,
        scope=scope,
        state=state,
        nonce=nonce,
        code_challenge=challenge,
        created_at=now,
        expires_at=now + timedelta(seconds=PAR_TTL_S),
    )
    return ParResponse(request_uri=request_uri, expires_in=PAR_TTL_S)


async def load(
    conn: asyncpg.Connection, *, request_uri: str, hmac_key: bytes, clock: Clock, for_update: bool = False
) -> ParRequest:
    """A live pushed request, or invalid_request (unknown, expired or already decided)."""
    par = await repo.get_par(conn, request_uri_hmac(hmac_key, request_uri), for_update=for_update)
    if par is None or par.used_at is not None or par.expires_at <= clock.now():
        raise InvalidRequest("The request_uri is unknown, expired or already used.")
    return par
