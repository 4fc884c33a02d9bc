"""W3C Trace Context, kept small: parse `traceparent`, carry it in a context variable, pass it on.

A request's valid `traceparent` gives its trace id (and sampled flag); an
invalid or missing one starts a new trace. Each request is one span with a new
span id; log lines carry the trace id and outbound httpx calls send a
`traceparent` naming that span as parent. Not OpenTelemetry: no spans are
exported, so its API would add a dependency for a header.
"""

from __future__ import annotations

import re
import secrets
from contextvars import ContextVar
from typing import Any, NamedTuple

import httpx

_HEADER = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?")
_ZERO_TRACE, _ZERO_SPAN = "0" * 32, "0" * 16


class Trace(NamedTuple):
    trace_id: str
    span_id: str
    flags: str = "00"

    def header(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-{self.flags}"

    def child(self) -> Trace:
        return Trace(self.trace_id, new_span_id(), self.flags)


trace_var: ContextVar[Trace | None] = ContextVar("trace", default=None)


def new_span_id() -> str:
    return secrets.token_hex(8)


def new_trace() -> Trace:
    return Trace(secrets.token_hex(16), new_span_id())


def parse(value: str | None) -> Trace | None:
    """The caller's trace (with a new span id for us), or None when the header breaks the spec."""
    if not value:
        return None
    found = _HEADER.fullmatch(value.strip())
    if found is None:
        return None
    version, trace_id, parent, flags, rest = found.groups()
    if version == "ff" or (version == "00" and rest) or trace_id == _ZERO_TRACE or parent == _ZERO_SPAN:
        return None
    return Trace(trace_id, new_span_id(), flags)


def current_trace_id() -> str | None:
    trace = trace_var.get()
    return trace.trace_id if trace else None


async def _inject(request: httpx.Request) -> None:
    """httpx request hook: our span as the parent of the outbound call (a new trace outside a request)."""
    request.headers["traceparent"] = (trace_var.get() or new_trace()).header()


def traced_client(**kwargs: Any) -> httpx.AsyncClient:
    """An httpx client that forwards the current trace on every request."""
    hooks = kwargs.pop("event_hooks", {}) or {}
    hooks = {**hooks, "request": [*hooks.get("request", []), _inject]}
    return httpx.AsyncClient(event_hooks=hooks, **kwargs)
