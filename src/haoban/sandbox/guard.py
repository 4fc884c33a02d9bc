"""Sandbox routes exist only in sandbox mode; otherwise they are 404."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotFoundException
from litestar.handlers.base import BaseRouteHandler

from haoban.runtime import Runtime


def sandbox_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    runtime: Runtime = connection.app.state.runtime
    if not runtime.settings.sandbox:
        raise NotFoundException()
