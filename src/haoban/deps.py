"""Litestar dependencies shared by every domain."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import asyncpg
from litestar.datastructures import State
from litestar.di import NamedDependency

from haoban.db.pool import transaction
from haoban.runtime import Runtime


def provide_runtime(state: State) -> Runtime:
    runtime: Runtime = state.runtime
    return runtime


async def provide_conn(state: State) -> AsyncGenerator[asyncpg.Connection, None]:
    """The request's connection, inside the request's one transaction."""
    runtime: Runtime = state.runtime
    async for conn in transaction(runtime.pool):
        yield conn


Conn = NamedDependency[asyncpg.Connection]
"""The request's connection (inside its transaction)."""
