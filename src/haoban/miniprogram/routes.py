"""Mini-program login (`/v1/auth/miniprogram/{platform}`); the sandbox code minting is in `haoban.sandbox`."""

from __future__ import annotations

from typing import Annotated

from litestar import Router, post
from litestar.datastructures import CacheControlHeader
from litestar.params import Body, FromPath

from haoban.deps import RuntimeDep
from haoban.kit.errors import NotFound
from haoban.kit.openapi import PUBLIC, example, problems, success
from haoban.miniprogram import service
from haoban.miniprogram.ports import PLATFORMS, Platform
from haoban.miniprogram.schemas import CodeExchange, MiniProgramLogin

SIGNED_IN_EXAMPLE = {
    "outcome": "signed_in",
    "tokens": {
        "citizen_id": "0b6a3a52-6f3e-4d55-9b8a-1f2d3c4b5a69",
        "access_token": "eyJhbGciOiJFUzI1NiIsImtpZCI6Ii4uLiIsInR5cCI6ImF0K2p3dCJ9...",
        "refresh_token": "hbr_x0m1Yf3kQ2bq8Jw7W2VZ0ZxRk7h0qB9Uu4n2b5cF1sE",
        "token_type": "Bearer",
        "expires_in": 600,
        "acr": "urn:haoban:loa:miniprogram",
        "refresh_token_expires_at": "2026-12-28T10:30:00Z",
    },
}
BINDING_EXAMPLE = {
    "outcome": "binding_required",
    "binding_ticket": "hbm_Q2bq8Jw7W2VZ0ZxRk7h0qB9Uu4n2b5cF1sEx0m1Yf3k",
    "expires_at": "2026-11-28T10:40:00Z",
}
TICKET_CHALLENGE_EXAMPLE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"  # RFC 7636 appendix B


def platform_named(platform: str) -> Platform:
    for known in PLATFORMS:
        if platform == known:
            return known
    raise NotFound("Unknown mini-program platform; use wechat or alipay.")


@post(
    "/auth/miniprogram/{platform:str}",
    operation_id="miniProgramLogin",
    summary="Exchange a WeChat or Alipay mini-program login code",
    description=(
        "`platform` is `wechat` (code from wx.login) or `alipay` (code from my.getAuthCode). A platform account "
        "already bound to a citizen gets tokens at `acr: urn:haoban:loa:miniprogram` (`amr: [miniprogram]`): "
        "never a verified real name, and refused wherever a recent face verification is required. An unbound one "
        "gets a `binding_ticket` (single use, 10 minutes). The ticket is tied to the mini-program that asked: "
        "the request carries `ticket_challenge` = BASE64URL(SHA256(verifier)) for a 43-character verifier "
        "(`[A-Za-z0-9_-]`) it keeps, and face registration or face login binds the account only when their "
        "`binding_ticket` field is the ticket followed by that verifier (401 `binding_proof_invalid` otherwise)."
    ),
    tags=["identity"],
    security=PUBLIC,
    status_code=200,
    cache_control=CacheControlHeader(no_store=True),
    responses={
        **success(
            200,
            MiniProgramLogin,
            "Signed in, or a binding ticket",
            [*example("bound", SIGNED_IN_EXAMPLE), *example("unbound", BINDING_EXAMPLE)],
        ),
        **problems(
            400,
            401,
            404,
            422,
            502,
            503,
            codes={
                401: "miniprogram_code_invalid",
                502: "miniprogram_platform_error",
                503: "miniprogram_platform_unavailable",
            },
        ),
    },
)
async def miniprogram_login(
    platform: FromPath[str],
    data: Annotated[
        CodeExchange,
        Body(
            examples=example(
                "wx.login code",
                {"code": "0a3Xb81w3ZzKlW1xGq3w3Pz3kz1Xb81W", "ticket_challenge": TICKET_CHALLENGE_EXAMPLE},
            )
        ),
    ],
    runtime: RuntimeDep,
) -> MiniProgramLogin:
    return await service.exchange_code(runtime, platform_named(platform), data.code, data.ticket_challenge)


router = Router(path="/v1", route_handlers=[miniprogram_login])
