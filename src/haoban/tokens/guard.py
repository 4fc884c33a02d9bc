"""The one guard: every protected route is authenticated here.

Authentication runs as a Litestar guard, before any dependency is resolved.
(Litestar resolves a batch of dependencies concurrently and does not clean up
generator dependencies when a sibling raises, so a raising `principal`
dependency could leak the request's database connection.)

Only the Authorization header is read; an `access_token` in the query string
is ignored on purpose (it would leak into logs and referrers).
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard

from haoban.kit.errors import Forbidden, InvalidToken, Unauthorized
from haoban.runtime import Runtime
from haoban.tokens.schemas import Principal

_CHALLENGE = 'Bearer realm="haoban"'
_KEY = "principal"


async def authenticated(connection: ASGIConnection[Any, Any, Any, State], _: BaseRouteHandler) -> None:
    runtime: Runtime = connection.app.state.runtime
    header = connection.headers.get("authorization", "")
    scheme, _sep, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("A bearer access token is required.", headers={"WWW-Authenticate": _CHALLENGE})
    try:
        principal = await runtime.tokens.authenticate(runtime.pool, token.strip())
    except InvalidToken as exc:
        exc.headers["WWW-Authenticate"] = _CHALLENGE + ', error="invalid_token"'
        raise
    connection.scope.setdefault("state", {})[_KEY] = principal


def provide_principal(request: ASGIConnection[Any, Any, Any, State]) -> Principal:
    principal = request.scope.get("state", {}).get(_KEY)
    if not isinstance(principal, Principal):  # the guard was not attached: fail closed
        raise Unauthorized("A bearer access token is required.")
    return principal


CurrentPrincipal = NamedDependency[Principal]
"""The verified caller; declare `principal: CurrentPrincipal` on a protected route."""

AUTH_GUARDS: list[Guard] = [authenticated]
AUTH_DEPENDENCIES = {"principal": Provide(provide_principal, sync_to_thread=False)}


class InsufficientScope(Forbidden):
    code = "insufficient_scope"


def require_scope(principal: Principal, scope: str) -> None:
    if scope not in principal.scope:
        raise InsufficientScope(f"This call needs the scope {scope!r}.")
