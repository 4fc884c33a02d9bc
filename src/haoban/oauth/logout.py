"""OpenID Connect RP-Initiated Logout 1.0: the client ends the grant behind an ID token.

There is no browser session at this provider (citizens sign in inside the app), so
the session to end is named by `id_token_hint` (required here, only RECOMMENDED by
the spec): its `sid` is the grant (token family), and ending it revokes the grant's
refresh tokens and with them its access tokens. An expired hint is accepted, as the
spec allows; its signature, issuer, audience and subject are not optional.
`post_logout_redirect_uri` must be one of the client's registered redirect URIs,
else nothing is revoked and nobody is redirected.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

import asyncpg
import jwt
import msgspec

from haoban.oauth import grants
from haoban.oauth import repository as repo
from haoban.oauth.errors import InvalidRedirectUri, InvalidRequest, OAuthError
from haoban.oauth.idtoken import ID_TOKEN_TYP, pairwise_sub
from haoban.oauth.schemas import Client
from haoban.runtime import Runtime
from haoban.tokens import jwt as tokens_jwt
from haoban.tokens import service as tokens

MAX_HINT = 4096
MAX_STATE = 512


class InvalidIdTokenHint(OAuthError):
    code = "invalid_id_token_hint"

    @property
    def error(self) -> str:
        return "invalid_request"


class LogoutOutcome(msgspec.Struct, frozen=True, kw_only=True):
    ended: bool
    redirect_to: str | None = None


async def _hint_claims(conn: asyncpg.Connection, runtime: Runtime, hint: str) -> dict[str, Any]:
    try:
        header = jwt.get_unverified_header(hint)
        if header.get("alg") != tokens_jwt.ALGORITHM or header.get("typ") != ID_TOKEN_TYP:
            raise InvalidIdTokenHint("The id_token_hint is not an ID token of this provider.")
        keys = await runtime.keyring.public_keys(conn, str(header.get("kid")))
        key = keys.get(str(header.get("kid")))
        if key is None:
            raise InvalidIdTokenHint("The id_token_hint is not signed by a key of this provider.")
        claims: dict[str, Any] = jwt.decode(
            hint,
            key,
            algorithms=[tokens_jwt.ALGORITHM],
            issuer=runtime.settings.security.issuer,
            options={"require": ["iss", "aud", "sub", "iat"], "verify_aud": False, "verify_exp": False},
        )
    except jwt.PyJWTError:
        raise InvalidIdTokenHint("The id_token_hint is not a valid ID token of this provider.") from None
    if not isinstance(claims.get("aud"), str) or not isinstance(claims.get("sub"), str):
        raise InvalidIdTokenHint("The id_token_hint has no single audience and subject.")
    return claims


def _redirect(uri: str, state: str | None) -> str:
    if state is None:
        return uri
    return f"{uri}{'&' if '?' in uri else '?'}{urlencode({'state': state})}"


async def _client(conn: asyncpg.Connection, client_id: str) -> Client:
    client = await repo.get_client(conn, client_id)
    if client is None or client.disabled_at is not None:
        raise InvalidIdTokenHint("The id_token_hint was issued to an unknown or disabled client.")
    return client


async def end_session(conn: asyncpg.Connection, runtime: Runtime, params: dict[str, str]) -> LogoutOutcome:
    hint = params.get("id_token_hint") or ""
    if not hint:
        raise InvalidRequest("The id_token_hint parameter is required: it names the session to end.")
    if len(hint) > MAX_HINT:
        raise InvalidIdTokenHint("The id_token_hint is too long.")
    state = params.get("state")
    if state is not None and len(state) > MAX_STATE:
        raise InvalidRequest(f"The state parameter is longer than {MAX_STATE} characters.")
    claims = await _hint_claims(conn, runtime, hint)
    client_id = str(claims["aud"])
    if params.get("client_id") not in (None, client_id):
        raise InvalidRequest("The client_id is not the audience of the id_token_hint.")
    client = await _client(conn, client_id)
    redirect_uri = params.get("post_logout_redirect_uri")
    if redirect_uri is not None and redirect_uri not in client.redirect_uris:
        raise InvalidRedirectUri("The post_logout_redirect_uri is not registered for this client.")
    try:
        session_id = uuid.UUID(str(claims.get("sid")))
    except ValueError:
        raise InvalidIdTokenHint("The id_token_hint names no session (issued before logout existed).") from None
    family = await tokens.get_family(conn, session_id, for_update=True)
    security = runtime.settings.security
    if (
        family is None
        or family.client_id != client_id
        or pairwise_sub(security.token_hmac_key, citizen_id=family.citizen_id, client_id=client_id) != claims["sub"]
    ):
        raise InvalidIdTokenHint("The id_token_hint names no session of this client.")
    ended = family.revoked_at is None
    if ended:
        await grants.revoke(conn, family, now=runtime.clock.now(), reason="logged_out")
    return LogoutOutcome(ended=ended, redirect_to=None if redirect_uri is None else _redirect(redirect_uri, state))
