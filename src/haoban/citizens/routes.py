"""The signed-in citizen's own account."""

from __future__ import annotations

from litestar import Router, get
from litestar.di import Provide

from haoban.citizens import service
from haoban.citizens.schemas import Me
from haoban.deps import Conn
from haoban.kit.openapi import problems
from haoban.tokens.guard import CurrentPrincipal, provide_principal


@get(
    "/me",
    operation_id="getMe",
    summary="The signed-in citizen",
    description="An opaque citizen id and how this session was verified. Never the ID number.",
    tags=["citizens"],
    responses=problems(401),
)
async def get_me(principal: CurrentPrincipal, conn: Conn) -> Me:
    return await service.me(conn, principal)


router = Router(path="/v1", route_handlers=[get_me], dependencies={"principal": Provide(provide_principal)})
