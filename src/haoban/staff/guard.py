"""The staff guard: staff routes are authenticated here, before any dependency (see haoban.tokens.guard)."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.spec import SecurityRequirement
from litestar.types import Guard

from haoban.kit.errors import InvalidToken, Unauthorized
from haoban.runtime import Runtime
from haoban.staff import tokens
from haoban.staff.schemas import StaffPrincipal

_CHALLENGE = 'Bearer realm="haoban-staff"'
_KEY = "staff"

STAFF_SECURITY: list[SecurityRequirement] = [{"staffBearer": []}]


async def staff_authenticated(connection: ASGIConnection[Any, Any, Any, State], _: BaseRouteHandler) -> None:
    runtime: Runtime = connection.app.state.runtime
    scheme, _sep, token = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("A staff bearer token is required.", headers={"WWW-Authenticate": _CHALLENGE})
    try:
        staff = await tokens.authenticate(runtime, token.strip())
    except InvalidToken as exc:
        exc.headers["WWW-Authenticate"] = _CHALLENGE + ', error="invalid_token"'
        raise
    connection.scope.setdefault("state", {})[_KEY] = staff


def provide_staff(request: ASGIConnection[Any, Any, Any, State]) -> StaffPrincipal:
    staff = request.scope.get("state", {}).get(_KEY)
    if not isinstance(staff, StaffPrincipal):  # the guard was not attached: fail closed
        raise Unauthorized("A staff bearer token is required.")
    return staff


CurrentStaff = NamedDependency[StaffPrincipal]
"""The verified staff caller; declare `staff: CurrentStaff` on a staff route."""

STAFF_GUARDS: list[Guard] = [staff_authenticated]
STAFF_DEPENDENCIES = {"staff": Provide(provide_staff, sync_to_thread=False)}
