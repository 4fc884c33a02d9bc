"""The sandbox mini-program platform's code minting (`POST /sandbox/miniprogram/{platform}/codes`)."""

from __future__ import annotations

from typing import Annotated

from litestar import Router, post
from litestar.params import Body, FromPath

from haoban.deps import RuntimeDep
from haoban.kit.errors import NotFound
from haoban.kit.openapi import PUBLIC, example, problems, success
from haoban.miniprogram.routes import platform_named
from haoban.miniprogram.schemas import SandboxCode, SandboxCodeCreate
from haoban.sandbox.guard import sandbox_only
from haoban.simulators.miniprogram import CODE_TTL, SandboxPlatform

SANDBOX_CODE_EXAMPLE = {
    "code": "0a3Xb81w3ZzKlW1xGq3w3Pz3kz1Xb81W",
    "platform": "wechat",
    "open_id": "o6_bmjrPTlm6_2sgVt7hMZOPfL2M",
    "union_id": None,
    "expires_at": "2026-11-28T10:35:00Z",
}


@post(
    "/miniprogram/{platform:str}/codes",
    operation_id="sandboxMintMiniProgramCode",
    summary="Mint a login code of the sandbox mini-program platform",
    description=(
        f"Sandbox only: what wx.login or my.getAuthCode would return for this open id. "
        f"Lives {int(CODE_TTL.total_seconds())} s and is used once."
    ),
    status_code=201,
    responses={
        **success(201, SandboxCode, "A code", example("code", SANDBOX_CODE_EXAMPLE)),
        **problems(400, 404, 422),
    },
)
async def mint_code(
    platform: FromPath[str],
    data: Annotated[SandboxCodeCreate, Body(examples=example("tester", {"open_id": "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"}))],
    runtime: RuntimeDep,
) -> SandboxCode:
    port = runtime.miniprogram_platforms.get(platform_named(platform))
    if not isinstance(port, SandboxPlatform):
        raise NotFound("This platform is not the sandbox platform here.")
    code, identity = await port.mint(data.open_id, data.union_id)
    return SandboxCode(
        code=code,
        platform=identity.platform,
        open_id=identity.open_id,
        union_id=identity.union_id,
        expires_at=runtime.clock.now() + CODE_TTL,
    )


router = Router(path="/sandbox", route_handlers=[mint_code], guards=[sandbox_only], tags=["sandbox"], security=PUBLIC)
