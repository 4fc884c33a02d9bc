"""OIDC userinfo for delegated tokens with the `openid` scope."""

from __future__ import annotations

from haoban.citizens import service as citizens
from haoban.db.pool import unit_of_work
from haoban.identity.stepup import FACE_ACR
from haoban.oauth import profile
from haoban.oauth.idtoken import pairwise_sub
from haoban.oauth.schemas import UserInfo
from haoban.runtime import Runtime
from haoban.tokens import service as tokens
from haoban.tokens.guard import require_scope
from haoban.tokens.schemas import Principal


async def _verified(runtime: Runtime, principal: Principal) -> bool:
    """Face-verified at approval, and the account has an ID number bound."""
    async with unit_of_work(runtime.pool) as conn:
        bound = await citizens.sealed_id_number(conn, principal.citizen_id) is not None
        grant = await tokens.get_family(conn, principal.session_id)  # how the citizen verified at approval
    return bound and grant is not None and grant.acr == FACE_ACR


async def userinfo(runtime: Runtime, principal: Principal) -> UserInfo:
    """`sub` always; the verification level with `identity.verified`; the masked name with `profile`.

    Holds no connection while the identity registry answers (the name is a pull through the exchange).
    """
    require_scope(principal, "openid")
    hmac_key = runtime.settings.security.token_hmac_key
    sub = pairwise_sub(hmac_key, citizen_id=principal.citizen_id, client_id=principal.client_id)
    info = UserInfo(sub=sub)
    if "identity.verified" in principal.scope:
        verified = await _verified(runtime, principal)
        info = UserInfo(sub=sub, real_name_verified=verified, real_name_level="face" if verified else "none")
    if profile.PROFILE_SCOPE in principal.scope:
        name = await profile.masked_name(runtime, principal)
        if name is not None:
            info = UserInfo(
                sub=sub, name=name, real_name_verified=info.real_name_verified, real_name_level=info.real_name_level
            )
    return info
