"""`GET /metrics` for Prometheus. Public in the API; restrict it at the ingress."""

from __future__ import annotations

from litestar import get
from litestar.datastructures import State

from haoban.kit.errors import Unavailable
from haoban.kit.openapi import PUBLIC, problems
from haoban.observability.metrics import MEDIA_TYPE, Metrics, PoolStats
from haoban.runtime import Runtime


@get(
    "/metrics",
    operation_id="getMetrics",
    summary="Prometheus metrics of this worker",
    description=(
        "Request counts and durations by route template, and database pool gauges, in the Prometheus "
        "text format. Each server worker keeps its own counts."
    ),
    tags=["health"],
    security=PUBLIC,
    responses=problems(),
    media_type=MEDIA_TYPE,
)
async def metrics(state: State) -> str:
    registry: Metrics = state.metrics
    runtime: Runtime = state.runtime
    try:
        pool = runtime.pool
    except Unavailable:
        return registry.render()
    return registry.render(PoolStats(size=pool.get_size(), idle=pool.get_idle_size(), max=pool.get_max_size()))
