"""The one guard: every protected route takes a `principal` from here.

Only the Authorization header is read; an `access_token` in the query string
is ignored on purpose (it would leak into logs and referrers).
"""

from __future__ import annotations

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency

from haoban.kit.errors import Forbidden, InvalidToken, Unauthorized
from haoban.runtime import Runtime
from haoban.tokens.schemas import Principal

_CHALLENGE = 'Bearer realm="haoban"'


async def provide_principal(request: Request[object, object, State], state: State) -> Principal:
    runtime: Runtime = state.runtime
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("A bearer access token is required.", headers={"WWW-Authenticate": _CHALLENGE})
    try:
        return await runtime.tokens.authenticate(runtime.pool, token.strip())
    except InvalidToken as exc:
        exc.headers["WWW-Authenticate"] = _CHALLENGE + ', error="invalid_token"'
        raise


class InsufficientScope(Forbidden):
    code = "insufficient_scope"


def require_scope(principal: Principal, scope: str) -> None:
    if scope not in principal.scope:
        raise InsufficientScope(f"This call needs the scope {scope!r}.")


CurrentPrincipal = NamedDependency[Principal]
"""The verified caller; declare `principal: CurrentPrincipal` on a protected route."""
