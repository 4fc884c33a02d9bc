"""Request metrics in the Prometheus text format, without a client library.

One `Metrics` registry is created per app in `create_app`, and counts live in
process memory. Uvicorn workers are separate processes, so each worker has its
own registry and a scrape sees only the worker that answered it: with more
than one worker, scrape each worker on its own port or run one worker per
container and let the orchestrator scale containers.

All updates happen on the event loop (the middleware records after the
response), so no lock is needed.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import NamedTuple

MEDIA_TYPE = "text/plain; version=0.0.4"  # Litestar appends "; charset=utf-8" to text/*
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
UNMATCHED = "<unmatched>"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"})


class PoolStats(NamedTuple):
    size: int
    idle: int
    max: int


class _Histogram:
    __slots__ = ("counts", "total")

    def __init__(self) -> None:
        self.counts = [0] * (len(BUCKETS) + 1)  # the last slot is +Inf
        self.total = 0.0

    def observe(self, seconds: float) -> None:
        self.counts[bisect_left(BUCKETS, seconds)] += 1
        self.total += seconds


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Metrics:
    """Request counts and durations by method and route template."""

    def __init__(self) -> None:
        self._requests: dict[tuple[str, str, int], int] = {}
        self._durations: dict[tuple[str, str], _Histogram] = {}

    def observe(self, *, method: str, route: str, status: int, seconds: float) -> None:
        """Record one request. `route` must be a template, never a raw path."""
        if method not in METHODS:
            method = "OTHER"  # clients choose the method; keep the label bounded
        key = (method, route, status)
        self._requests[key] = self._requests.get(key, 0) + 1
        histogram = self._durations.get((method, route))
        if histogram is None:
            histogram = self._durations[(method, route)] = _Histogram()
        histogram.observe(seconds)

    def render(self, pool: PoolStats | None = None) -> str:
        lines = [
            "# HELP haoban_http_requests_total HTTP requests by method, route template and status.",
            "# TYPE haoban_http_requests_total counter",
        ]
        for (method, route, status), count in sorted(self._requests.items()):
            lines.append(
                f'haoban_http_requests_total{{method="{method}",route="{_label(route)}",status="{status}"}} {count}'
            )
        lines += [
            "# HELP haoban_http_request_duration_seconds HTTP request duration by method and route template.",
            "# TYPE haoban_http_request_duration_seconds histogram",
        ]
        for (method, route), histogram in sorted(self._durations.items()):
            labels = f'method="{method}",route="{_label(route)}"'
            cumulative = 0
            for bound, count in zip((*map(repr, BUCKETS), "+Inf"), histogram.counts, strict=True):
                cumulative += count
                lines.append(f'haoban_http_request_duration_seconds_bucket{{{labels},le="{bound}"}} {cumulative}')
            lines.append(f"haoban_http_request_duration_seconds_sum{{{labels}}} {histogram.total!r}")
            lines.append(f"haoban_http_request_duration_seconds_count{{{labels}}} {cumulative}")
        if pool is not None:
            for name, help_text, value in (
                ("haoban_db_pool_size", "Open connections in the database pool.", pool.size),
                ("haoban_db_pool_idle", "Idle connections in the database pool.", pool.idle),
                ("haoban_db_pool_max", "Most connections the database pool may open.", pool.max),
            ):
                lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", f"{name} {value}"]
        return "\n".join(lines) + "\n"
