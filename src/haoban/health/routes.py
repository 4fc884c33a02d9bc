"""Liveness and readiness probes.

Liveness only says the process answers. Readiness says this worker can serve:
the database answers, the face engine's workers have loaded their models (the
first probe starts loading them, so a fresh worker turns ready once they are
in), and the outbox is not lagging (its oldest pending row is younger than
HAOBAN_READY_OUTBOX_LAG_S, default 300 s): a stuck worker means payouts and
notices are not going out.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Literal

import msgspec
from litestar import Router, get

from haoban.db.pool import unit_of_work
from haoban.deps import RuntimeDep
from haoban.kit.errors import Unavailable
from haoban.kit.openapi import PUBLIC, example, problems, success
from haoban.outbox import service as outbox

log = logging.getLogger(__name__)
Check = Literal["ok", "down", "loading", "lagging"]


class Health(msgspec.Struct, frozen=True, kw_only=True):
    status: str
    database: Check | None = None
    face_engine: Check | None = None
    outbox: Check | None = None
    outbox_oldest_age_s: float | None = None


@get(
    "/live",
    operation_id="healthLive",
    summary="Liveness: the process answers",
    tags=["health"],
    security=PUBLIC,
    responses={
        **success(
            200,
            Health,
            "The process answers",
            example(
                "alive",
                {"status": "ok", "database": None, "face_engine": None, "outbox": None, "outbox_oldest_age_s": None},
            ),
        ),
        **problems(),
    },
)
async def live() -> Health:
    return Health(status="ok")


async def _database(runtime: RuntimeDep) -> tuple[Check, Check, float | None]:
    """The database, and through it the outbox backlog."""
    try:
        async with unit_of_work(runtime.pool, transaction=False) as conn:
            backlog = await outbox.backlog(conn)
    except Exception:  # any failure means not ready
        log.warning("readiness: the database did not answer", exc_info=True)
        return "down", "down", None
    if backlog.oldest_at is None:
        return "ok", "ok", 0.0
    age = max((runtime.clock.now() - backlog.oldest_at).total_seconds(), 0.0)
    return "ok", ("lagging" if age > runtime.outbox.ready_lag_s else "ok"), age


def _face(runtime: RuntimeDep) -> Check:
    engine = runtime.face
    if engine.loaded:
        return "ok"
    task = runtime.face_warming
    if task is None or task.done():
        if task is not None and not task.cancelled() and task.exception() is not None:
            log.warning("readiness: the face engine failed to load", exc_info=task.exception())
        runtime.face_warming = asyncio.get_running_loop().create_task(engine.warm_up())
    return "loading"


@get(
    "/ready",
    operation_id="healthReady",
    summary="Readiness: database, face engine and outbox",
    description=(
        "200 when the database answers, the face engine has loaded its models and the oldest pending "
        "outbox row is younger than HAOBAN_READY_OUTBOX_LAG_S; otherwise 503 with each check's state "
        "in `checks`. The first probe of a worker starts loading the face models."
    ),
    tags=["health"],
    security=PUBLIC,
    responses={
        **success(
            200,
            Health,
            "Ready to serve",
            example(
                "ready",
                {"status": "ok", "database": "ok", "face_engine": "ok", "outbox": "ok", "outbox_oldest_age_s": 0.0},
            ),
        ),
        **problems(503),
    },
)
async def ready(runtime: RuntimeDep) -> Health:
    database, backlog, age = await _database(runtime)
    health = Health(status="ok", database=database, face_engine=_face(runtime), outbox=backlog, outbox_oldest_age_s=age)
    failing = [name for name in ("database", "face_engine", "outbox") if getattr(health, name) != "ok"]
    if failing:
        raise Unavailable(
            "not ready: " + ", ".join(f"{name} {getattr(health, name)}" for name in failing),
            headers={"Retry-After": "1"},
            extra={"checks": msgspec.to_builtins(health)},
        )
    return health


router = Router(path="/health", route_handlers=[live, ready])
