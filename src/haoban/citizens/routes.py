"""The signed-in citizen's own account."""

from __future__ import annotations

from litestar import Router, get

from haoban.citizens import service
from haoban.citizens.schemas import Me
from haoban.deps import Conn, RuntimeDep
from haoban.identity import service as identity
from haoban.kit.openapi import example, problems, success
from haoban.tokens.guard import AUTH_DEPENDENCIES, AUTH_GUARDS, CurrentPrincipal

_ME_EXAMPLE = {
    "citizen_id": "0b7e3c1a-5d2f-4e8a-9c61-2f4d8a7b3e90",
    "status": "active",
    "created_at": "2026-03-02T08:15:00Z",
    "id_number_masked": "410105********0021",
    "face_enrolled": True,
    "session": {
        "client_id": "haoban-sandbox",
        "scope": "openid profile",
        "acr": "urn:haoban:loa:sandbox",
        "amr": ["sandbox"],
        "auth_time": "2026-03-02T08:15:00Z",
    },
}


@get(
    "/me",
    operation_id="getMe",
    summary="The signed-in citizen",
    description="An opaque citizen id and how this session was verified. Never the ID number.",
    tags=["citizens"],
    responses={
        **success(200, Me, "The signed-in citizen", example("sandbox session", _ME_EXAMPLE)),
        **problems(401),
    },
)
async def get_me(principal: CurrentPrincipal, conn: Conn, runtime: RuntimeDep) -> Me:
    enrolled = await identity.face_enrolled(conn, principal.citizen_id)
    return await service.me(conn, runtime.vault, principal, face_enrolled=enrolled)


router = Router(path="/v1", route_handlers=[get_me], guards=AUTH_GUARDS, dependencies=AUTH_DEPENDENCIES)
