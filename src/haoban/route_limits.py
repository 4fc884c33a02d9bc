"""Per-address and per-credential limits on the anonymous routes: PAR, token, department ingestion.

Staff sign-in has its own (haoban.staff.throttle); the face and one-time-code routes
theirs (haoban.identity). These are guards, so a refused request costs one statement
and never reaches body decoding, client authentication or the database transaction.

- Per **source address** (haoban.limits.http: the peer, or X-Forwarded-For behind a
  trusted proxy), on every request.
- Per **presented credential** (a keyed hash of the Authorization header), when there is
  one: a confidential client or a department system. A wrong secret is another
  credential, so guessing never spends the real client's budget. A public client
  (a mini-program) has no credential; a limit on its `client_id` alone would let
  anyone lock out all of its users, so it has the per-address limit only.

Counts live in PostgreSQL (haoban.limits), so they hold across replicas.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard

from haoban.limits.http import source_address
from haoban.limits.rules import Window
from haoban.runtime import Runtime

Rules = tuple[Window, ...]

PAR_PER_ADDRESS: Rules = (Window(60, 30), Window(3600, 300))
TOKEN_PER_ADDRESS: Rules = (Window(60, 60), Window(3600, 600))
TOKEN_PER_CREDENTIAL: Rules = (Window(60, 300),)
INGEST_PER_ADDRESS: Rules = (Window(60, 120),)
INGEST_PER_CREDENTIAL: Rules = (Window(60, 300),)


def limit(name: str, *, per_address: Rules, per_credential: Rules = ()) -> Guard:
    """A guard counting each request against `name`'s windows; 429 `rate_limited` with Retry-After when over."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        runtime: Runtime = connection.app.state.runtime
        now = runtime.clock.now()
        peer = connection.client.host if connection.client is not None else None
        address = source_address(peer, connection.headers.get("x-forwarded-for"), runtime.settings.http.trusted_proxies)
        await runtime.limiter.hit(runtime.pool, scope=f"{name}.address", key=address, rules=per_address, now=now)
        credential = connection.headers.get("authorization")
        if per_credential and credential:
            await runtime.limiter.hit(
                runtime.pool, scope=f"{name}.credential", key=credential, rules=per_credential, now=now
            )

    guard.__name__ = f"limit_{name.replace('.', '_')}"
    guard.__qualname__ = guard.__name__
    setattr(guard, "rate_limited", True)  # noqa: B010 (read by haoban.kit.openapi.framework_problems)
    return guard


par_limit = limit("oauth.par", per_address=PAR_PER_ADDRESS)
token_limit = limit("oauth.token", per_address=TOKEN_PER_ADDRESS, per_credential=TOKEN_PER_CREDENTIAL)
ingest_limit = limit("ingest", per_address=INGEST_PER_ADDRESS, per_credential=INGEST_PER_CREDENTIAL)
