"""OIDC userinfo for delegated tokens with the `openid` scope."""

from __future__ import annotations

import asyncpg

from haoban.citizens import repository as citizens
from haoban.identity.stepup import FACE_ACR
from haoban.oauth.idtoken import pairwise_sub
from haoban.oauth.schemas import UserInfo
from haoban.tokens import repository as tokens_repo
from haoban.tokens.guard import require_scope
from haoban.tokens.schemas import Principal


async def userinfo(conn: asyncpg.Connection, principal: Principal, *, hmac_key: bytes) -> UserInfo:
    require_scope(principal, "openid")
    sub = pairwise_sub(hmac_key, citizen_id=principal.citizen_id, client_id=principal.client_id)
    if "identity.verified" not in principal.scope:
        return UserInfo(sub=sub)
    bound = await citizens.sealed_id_number(conn, principal.citizen_id) is not None
    grant = await tokens_repo.get_family(conn, principal.session_id)  # how the citizen verified at approval
    verified = bound and grant is not None and grant.acr == FACE_ACR
    return UserInfo(sub=sub, real_name_verified=verified, real_name_level="face" if verified else "none")
