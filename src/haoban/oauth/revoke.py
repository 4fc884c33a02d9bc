"""RFC 7009 token revocation: 200 for anything, but only a client's own tokens are revoked."""

from __future__ import annotations

import asyncpg

from haoban.kit.errors import InvalidToken
from haoban.oauth import grants
from haoban.oauth.guard import verify_delegated
from haoban.oauth.schemas import Client
from haoban.runtime import Runtime
from haoban.tokens import repository as tokens_repo
from haoban.tokens.schemas import Family


async def _family_of(conn: asyncpg.Connection, runtime: Runtime, token: str) -> Family | None:
    if token.startswith(grants.REFRESH_PREFIX):
        row = await tokens_repo.lock_refresh(conn, grants.refresh_hmac(runtime, token))
        return None if row is None else await tokens_repo.get_family(conn, row.family_id, for_update=True)
    try:
        principal, _claims = await verify_delegated(runtime, token, conn)
    except InvalidToken:  # an unusable token is simply not revoked
        return None
    return await tokens_repo.get_family(conn, principal.session_id, for_update=True)


async def revoke(conn: asyncpg.Connection, runtime: Runtime, client: Client, token: str) -> None:
    """Revoking either token of a grant ends the whole grant (its refresh and access tokens)."""
    if not token or len(token) > 4096:
        return
    family = await _family_of(conn, runtime, token)
    if family is None or family.client_id != client.client_id or family.revoked_at is not None:
        return
    await grants.revoke(conn, family, now=runtime.clock.now(), reason="revoked_by_client")
