"""Liveness and readiness probes."""

from __future__ import annotations

import msgspec
from litestar import Router, get
from litestar.datastructures import State

from haoban.kit.errors import Unavailable
from haoban.kit.openapi import PUBLIC, example, problems, success
from haoban.runtime import Runtime


class Health(msgspec.Struct, frozen=True, kw_only=True):
    status: str
    database: str | None = None


@get(
    "/live",
    operation_id="healthLive",
    summary="Liveness: the process answers",
    tags=["health"],
    security=PUBLIC,
    responses={
        **success(200, Health, "The process answers", example("alive", {"status": "ok", "database": None})),
        **problems(),
    },
)
async def live() -> Health:
    return Health(status="ok")


@get(
    "/ready",
    operation_id="healthReady",
    summary="Readiness: the database answers",
    tags=["health"],
    security=PUBLIC,
    responses={
        **success(200, Health, "Ready to serve", example("ready", {"status": "ok", "database": "ok"})),
        **problems(503),
    },
)
async def ready(state: State) -> Health:
    runtime: Runtime = state.runtime
    try:
        async with runtime.pool.acquire(timeout=2) as conn:
            await conn.fetchval("SELECT 1")
    except Exception as exc:  # any failure means not ready
        raise Unavailable("the database is not reachable") from exc
    return Health(status="ok", database="ok")


router = Router(path="/health", route_handlers=[live, ready])
