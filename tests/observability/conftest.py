"""Test-only routes, registered on the per-test app, to drive logging and crashes through HTTP."""

from __future__ import annotations

import logging

import pytest
from litestar import Litestar, get
from litestar.params import FromPath

from haoban.kit.context import request_id_var


@get("/test/log/{value:str}", include_in_schema=False, security=[])
async def log_value(value: FromPath[str]) -> dict[str, str | None]:
    logging.getLogger("haoban.test").warning("citizen %s asked", value, extra={"id_number": value})
    return {"request_id": request_id_var.get()}


@get("/test/crash", include_in_schema=False, security=[])
async def crash() -> None:
    raise RuntimeError("boom")


@pytest.fixture
def test_routes(app: Litestar) -> Litestar:
    app.register(log_value)
    app.register(crash)
    return app
