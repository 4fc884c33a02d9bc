"""Litestar dependencies shared by every domain."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import asyncpg
from litestar.datastructures import State
from litestar.di import NamedDependency

from haoban.db.pool import unit_of_work
from haoban.runtime import Runtime


def provide_runtime(state: State) -> Runtime:
    runtime: Runtime = state.runtime
    return runtime


async def provide_conn(state: State) -> AsyncGenerator[asyncpg.Connection, None]:
    """The request's connection, inside the request's one transaction.

    A generator dependency: its cleanup (the commit) runs before the response is
    sent, so a failed commit becomes an error response, never a false 200.
    """
    runtime: Runtime = state.runtime
    async with unit_of_work(runtime.pool) as conn:
        yield conn


Conn = NamedDependency[asyncpg.Connection]
"""The request's connection (inside its transaction)."""

RuntimeDep = NamedDependency[Runtime]
"""What the composition root built (declared, so Litestar does not infer it)."""
