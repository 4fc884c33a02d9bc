"""Request id, W3C trace context, security headers, access log line and metrics for every HTTP request.

A plain ASGI wrapper around the whole Litestar handler (`app.asgi_handler`),
not a Litestar middleware: those run per route, after routing, so they never
see a 404 or 405. Wrapping the handler covers every response, errors included.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Iterable

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from haoban.kit.context import request_id_var
from haoban.kit.events import listener_var
from haoban.kit.masking import scrub
from haoban.kit.tracing import new_trace, parse, trace_var
from haoban.observability.headers import with_security_headers
from haoban.observability.metrics import UNMATCHED, Metrics

HEADER = b"x-request-id"
TRACEPARENT = b"traceparent"
TRACERESPONSE = b"traceresponse"  # W3C Trace Context level 2: the span that answered
_SANE = re.compile(r"[A-Za-z0-9._-]{1,128}")

access_log = logging.getLogger("haoban.access")


def request_id_from(headers: Iterable[tuple[bytes, bytes]]) -> str:
    """The client's X-Request-ID when it is sane, else a new uuid4 hex.

    An id the log scrubber would mask (an ID or phone number) is replaced too:
    the id is written to every log line unscrubbed.
    """
    for name, value in headers:
        if name == HEADER:
            candidate = value.decode("latin-1")
            if _SANE.fullmatch(candidate) and scrub(candidate) == candidate:
                return candidate
            break
    return uuid.uuid4().hex


def _header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")
    return None


class RequestMiddleware:
    def __init__(self, app: ASGIApp, *, metrics: Metrics, hsts: bool = False) -> None:
        self.app = app
        self.metrics = metrics
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope["headers"])
        scope.setdefault("state", {})["request_id"] = request_id
        trace = parse(_header(scope["headers"], TRACEPARENT)) or new_trace()
        header = (HEADER, request_id.encode("latin-1"))
        trace_header = (TRACERESPONSE, trace.header().encode("latin-1"))
        status = 500  # if nothing is sent, the server answers 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [h for h in message.get("headers", ()) if h[0].lower() not in (HEADER, TRACERESPONSE)]
                secured = with_security_headers(headers, hsts=self.hsts)
                message = {**message, "headers": [*secured, header, trace_header]}
            await send(message)

        token = request_id_var.set(request_id)
        tracing = trace_var.set(trace)
        listening = listener_var.set(self.metrics.on_event)
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            # Litestar sets the template only when a route matched; the raw path
            # would make one series per URL (and may hold ids).
            route = scope.get("path_template") or UNMATCHED
            method = scope["method"]
            self.metrics.observe(method=method, route=route, status=status, seconds=seconds)
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    "%s %s %s",
                    method,
                    route,
                    status,
                    extra={"method": method, "route": route, "status": status, "duration_ms": round(seconds * 1000, 2)},
                )
            listener_var.reset(listening)
            trace_var.reset(tracing)
            request_id_var.reset(token)
