"""Sandbox knobs: make an exchange source slow or failing, and move the sandbox clock forward. 404 unless
sandbox mode is on; every change is audited."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Annotated

import asyncpg
from litestar import Router, get, post
from litestar.datastructures import State
from litestar.params import Body, FromPath

from haoban.audit import service as audit
from haoban.deps import Conn, RuntimeDep
from haoban.exchange.sources.records import SourceName
from haoban.kit.clock import OffsetClock
from haoban.kit.openapi import PUBLIC, example, problems, success
from haoban.sandbox import knobs_repository as repo
from haoban.sandbox.guard import sandbox_only
from haoban.sandbox.schemas import ClockSet, SandboxClock, SourceFault
from haoban.sandbox.service import SANDBOX_ACTOR

CLOCK_REFRESH_S = 1.0  # other worker processes pick up a new offset within this
_FAULT = {"latency_ms": 800, "failure_rate": 0.5}


@post(
    "/sources/{source:str}/faults",
    operation_id="sandboxSourceFaults",
    summary="Make one exchange source slow or failing",
    description=(
        "The whole setting each time: `latency_ms` before each answer, `failure_rate` the share of calls that"
        " fail as an outage would (the source shows `unavailable`). `{}` puts the source right. Audited."
    ),
    status_code=200,
    responses={
        **success(200, SourceFault, "The faults now in effect", example("slow, flaky", _FAULT)),
        **problems(400, 404, 422),
    },
)
async def set_source_fault(
    source: FromPath[SourceName],
    data: Annotated[SourceFault, Body(examples=example("slow, flaky", _FAULT))],
    conn: Conn,
    runtime: RuntimeDep,
) -> SourceFault:
    now = runtime.clock.now()
    await repo.set_source_fault(conn, source, data, now)
    await audit.record(
        conn,
        actor=SANDBOX_ACTOR,
        action="sandbox.source_faults_set",
        subject_type="source",
        subject_id=source,
        at=now,
        details={"latency_ms": data.latency_ms, "failure_rate": data.failure_rate},
    )
    return data


_CLOCK = {"offset_s": 1_209_600, "now": "2026-12-21T10:30:00Z"}


@get(
    "/clock",
    operation_id="sandboxClock",
    summary="The sandbox clock: its offset from the real time and what it reads",
    responses={**success(200, SandboxClock, "The sandbox clock", example("two weeks ahead", _CLOCK)), **problems(400)},
)
async def read_clock(state: State) -> SandboxClock:
    clock: OffsetClock = state.sandbox_clock
    return SandboxClock(offset_s=int(clock.offset.total_seconds()), now=clock.now())


@post(
    "/clock",
    operation_id="sandboxSetClock",
    summary="Move the sandbox clock forward, to see deadlines pass",
    description=(
        "`offset_s` is the whole setting: how many seconds ahead of the real time the server's clock runs"
        " (0 puts it back). Tokens, deadlines, housekeeping and the outbox all read this clock. Audited."
    ),
    status_code=200,
    responses={
        **success(200, SandboxClock, "The sandbox clock now", example("two weeks ahead", _CLOCK)),
        **problems(400, 404, 422),
    },
)
async def set_clock(
    data: Annotated[ClockSet, Body(examples=example("two weeks ahead", {"offset_s": 1_209_600}))],
    conn: Conn,
    state: State,
) -> SandboxClock:
    clock: OffsetClock = state.sandbox_clock
    before = int(clock.offset.total_seconds())
    await repo.set_clock_offset(conn, data.offset_s, clock.now())
    clock.offset = timedelta(seconds=data.offset_s)
    await audit.record(
        conn,
        actor=SANDBOX_ACTOR,
        action="sandbox.clock_set",
        subject_type="clock",
        subject_id="sandbox",
        at=clock.now(),
        details={"offset_s": data.offset_s, "previous_offset_s": before},
    )
    return SandboxClock(offset_s=data.offset_s, now=clock.now())


@contextlib.asynccontextmanager
async def following_clock(clock: OffsetClock, pool: asyncpg.Pool) -> AsyncIterator[None]:
    """Keep this process's sandbox clock at the stored offset (another worker may have set it)."""

    async def follow() -> None:
        while True:
            with contextlib.suppress(asyncpg.PostgresError, OSError):
                clock.offset = timedelta(seconds=await repo.clock_offset(pool))
            await asyncio.sleep(CLOCK_REFRESH_S)

    with contextlib.suppress(asyncpg.PostgresError, OSError):
        clock.offset = timedelta(seconds=await repo.clock_offset(pool))
    task = asyncio.create_task(follow())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


router = Router(
    path="/sandbox",
    route_handlers=[set_source_fault, read_clock, set_clock],
    guards=[sandbox_only],
    tags=["sandbox"],
    security=PUBLIC,
)
