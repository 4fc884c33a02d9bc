"""RFC 7009 token revocation: 200 for anything, but only a client's own tokens are revoked.

A delegated token (refresh or access) ends its whole grant. A client-credentials
access token has no grant: its `jti` goes on a deny-list until it would expire,
which the department guard and introspection check.
"""

from __future__ import annotations

from datetime import timedelta

import asyncpg

from haoban.audit import service as audit
from haoban.audit.schemas import Actor
from haoban.kit.errors import InvalidToken
from haoban.oauth import grants, machine
from haoban.oauth import repository as repo
from haoban.oauth.guard import verify_delegated
from haoban.oauth.schemas import Client
from haoban.runtime import Runtime
from haoban.tokens import service as tokens
from haoban.tokens.schemas import Family


async def _family_of(conn: asyncpg.Connection, runtime: Runtime, token: str) -> Family | None:
    if token.startswith(grants.REFRESH_PREFIX):
        row = await tokens.locked_refresh(conn, grants.refresh_hmac(runtime, token))
        return None if row is None else await tokens.get_family(conn, row.family_id, for_update=True)
    try:
        principal, _claims = await verify_delegated(runtime, token, conn)
    except InvalidToken:  # an unusable token is simply not revoked
        return None
    return await tokens.get_family(conn, principal.session_id, for_update=True)


async def _deny_client_token(conn: asyncpg.Connection, runtime: Runtime, client: Client, token: str) -> None:
    """A live client-credentials token of the calling client goes on the deny-list; anything else is ignored."""
    if not machine.looks_like_jwt(token):
        return
    try:
        principal = await machine.verify_client_token(runtime, token, conn)
    except InvalidToken:  # unusable, already revoked, or its client disabled: nothing to do
        return
    if principal.client_id != client.client_id:  # another client's token stays valid (RFC 7009 §2.1)
        return
    now = runtime.clock.now()
    await repo.purge_denied(conn, now - timedelta(days=1))
    if await repo.deny_token(
        conn, jti=principal.token_id, client_id=client.client_id, at=now, expires_at=principal.expires_at
    ):
        await audit.record(
            conn,
            actor=Actor(type="client", id=client.client_id),
            action="oauth.client_token.revoked",
            subject_type="oauth_client",
            subject_id=client.client_id,
            at=now,
            details={"jti": principal.token_id},
        )


async def revoke(conn: asyncpg.Connection, runtime: Runtime, client: Client, token: str) -> None:
    """Revoking either token of a grant ends the whole grant (its refresh and access tokens)."""
    if not token or len(token) > 4096:
        return
    family = await _family_of(conn, runtime, token)
    if family is None:
        if not token.startswith(grants.REFRESH_PREFIX):
            await _deny_client_token(conn, runtime, client, token)
        return
    if family.client_id != client.client_id or family.revoked_at is not None:
        return
    await grants.revoke(conn, family, now=runtime.clock.now(), reason="revoked_by_client")
