"""A stand-in for the departments' real-time APIs: the sandbox counterpart of `http_source.py`.

It serves the wire format documented in `haoban.exchange.sources.http` from the
same `shared` tables the front-end database adapters read (through
`frontdb_repository`), in its own process, over real HTTP:

    python -m haoban.simulators.sources.server --database-url postgresql://... --port 8900 [--token T]

Faults for tests are set with `POST /control` (the whole setting each time):

    latency_ms    wait this long before answering
    failure_rate  answer this share of requests with 503 (0..1)
    stall         never answer until a later POST sets stall false (the client gives up first)
    fail_next     answer the next N requests with 503, then recover
    garbage       answer 200 with a body that is not JSON

`GET /control` returns the setting and `requests`, the number of source requests
received (faults included), and `last_request_id`, the last X-Request-ID seen.
"""

from __future__ import annotations

import argparse
import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Annotated, Any

import asyncpg
import msgspec
import uvicorn
from litestar import Litestar, Request, get, post
from litestar.handlers import HTTPRouteHandler
from litestar.response import Response

from haoban.db.pool import create_pool
from haoban.exchange.sources.frontdb import LOOKUPS, identity_photo
from haoban.exchange.sources.http import NO_RECORD
from haoban.settings import DatabaseSettings

STALL_CAP_S = 120.0  # a stalled request answers 503 after this, so nothing hangs forever


class Control(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    latency_ms: Annotated[int, msgspec.Meta(ge=0, le=600_000)] = 0
    failure_rate: Annotated[float, msgspec.Meta(ge=0, le=1)] = 0.0
    stall: bool = False
    fail_next: Annotated[int, msgspec.Meta(ge=0)] = 0
    garbage: bool = False


class ControlState(msgspec.Struct, frozen=True, kw_only=True):
    control: Control
    requests: int
    last_request_id: str | None


class _Simulator:
    """Mutable state of one simulator app (one event loop, so no locks)."""

    def __init__(self, database_url: str, token: str | None) -> None:
        self.database_url = database_url
        self.token = token
        self.control = Control()
        self.requests = 0
        self.last_request_id: str | None = None
        self.released = asyncio.Event()
        self.released.set()
        self.pool: asyncpg.Pool | None = None

    def set_control(self, control: Control) -> None:
        self.control = control
        if control.stall:
            self.released.clear()
        else:
            self.released.set()

    async def fault(self, request: Request[Any, Any, Any]) -> Response[bytes] | None:
        """Count the request and apply the configured faults; a response replaces the real answer."""
        self.requests += 1
        self.last_request_id = request.headers.get("x-request-id")
        if self.token is not None and request.headers.get("authorization") != f"Bearer {self.token}":
            return _problem(401, "bad or missing bearer token")
        if self.control.stall:
            try:
                await asyncio.wait_for(self.released.wait(), STALL_CAP_S)
            except TimeoutError:
                return _problem(503, "stalled")
        if self.control.latency_ms:
            await asyncio.sleep(self.control.latency_ms / 1000)
        if self.control.fail_next:
            self.control = msgspec.structs.replace(self.control, fail_next=self.control.fail_next - 1)
            return _problem(503, "injected failure")
        if random.random() < self.control.failure_rate:  # noqa: S311 (fault injection, not crypto)
            return _problem(503, "injected failure")
        if self.control.garbage:
            return Response(b"<html>surprise</html>", status_code=200, media_type="application/json")
        return None

    def db(self) -> asyncpg.Pool:
        if self.pool is None:
            raise RuntimeError("the simulator's pool is not open")
        return self.pool


def _problem(status: int, detail: str) -> Response[bytes]:
    body: dict[str, str] = {"detail": detail}
    if status == 404 and detail == "no record":
        body["code"] = NO_RECORD  # the marker that tells "no record" from any other 404
    return Response(msgspec.json.encode(body), status_code=status, media_type="application/json")


def _lookup(sim: _Simulator, source: str, query: Callable[[asyncpg.Pool, str], Awaitable[Any]]) -> HTTPRouteHandler:
    """One static route per source: Litestar does not backtrack from `/v1/identity/{id}/photo`
    to a `/v1/{source}/{id}` pattern, and a routing 404 would read as "no record"."""

    @get(f"/v1/{source}/{{id_number:str}}", operation_id=f"simulatorLookup_{source}", name=f"lookup_{source}")
    async def lookup(id_number: str, request: Request[Any, Any, Any]) -> Response[bytes]:
        if (faulty := await sim.fault(request)) is not None:
            return faulty
        record = await query(sim.db(), id_number)
        if record is None:
            return _problem(404, "no record")
        return Response(msgspec.json.encode(record), status_code=200, media_type="application/json")

    return lookup


def create_simulator(database_url: str, *, token: str | None = None) -> Litestar:
    """The simulator app; it opens its own small pool on startup."""
    sim = _Simulator(database_url, token)

    @asynccontextmanager
    async def pool_lifespan(_: Litestar) -> AsyncIterator[None]:
        sim.pool = await create_pool(database_url, DatabaseSettings(url=database_url, pool_min=1, pool_max=4))
        try:
            yield
        finally:
            sim.released.set()
            await sim.pool.close()

    @get("/v1/identity/{id_number:str}/photo", operation_id="simulatorPhoto")
    async def photo(id_number: str, request: Request[Any, Any, Any]) -> Response[bytes]:
        if (faulty := await sim.fault(request)) is not None:
            return faulty
        if (image := await identity_photo(sim.db(), id_number)) is None:
            return _problem(404, "no record")
        return Response(image, status_code=200, media_type="application/octet-stream")

    @get("/control", operation_id="simulatorControlRead")
    async def read_control() -> ControlState:
        return ControlState(control=sim.control, requests=sim.requests, last_request_id=sim.last_request_id)

    @post("/control", operation_id="simulatorControlSet", status_code=200)
    async def set_control(data: Control) -> ControlState:
        sim.set_control(data)
        return ControlState(control=sim.control, requests=sim.requests, last_request_id=sim.last_request_id)

    return Litestar(
        route_handlers=[
            *(_lookup(sim, name, query) for name, query in LOOKUPS.items()),
            photo,
            read_control,
            set_control,
        ],
        lifespan=[pool_lifespan],
        openapi_config=None,
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m haoban.simulators.sources.server", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--database-url", required=True, help="the database whose `shared` schema to serve")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument("--token", default=None, help="require Authorization: Bearer TOKEN")
    args = parser.parse_args(argv)
    app = create_simulator(args.database_url, token=args.token)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", timeout_graceful_shutdown=2)


if __name__ == "__main__":
    main()
