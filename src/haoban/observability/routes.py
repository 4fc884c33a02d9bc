"""`GET /metrics` for Prometheus, behind a bearer token (HAOBAN_METRICS_TOKEN).

Request counts by route and pool gauges tell an attacker which routes are busy
and when the pool is exhausted, so the API does not hand them to anyone. In
production without a token the route is off (404); in the demo it is open
unless a token is set.
"""

from __future__ import annotations

import hmac
from typing import Any

from litestar import Request, get
from litestar.datastructures import State

from haoban.deps import RuntimeDep
from haoban.kit.errors import NotFound, Unauthorized
from haoban.kit.openapi import problems
from haoban.observability.metrics import MEDIA_TYPE, Metrics
from haoban.observability.scrape import families, pool_stats
from haoban.observability.settings import ObservabilitySettings


def check_metrics_access(access: ObservabilitySettings, authorization: str | None) -> None:
    if access.metrics_open:
        return
    if access.metrics_token is None:
        raise NotFound("Metrics are off: set HAOBAN_METRICS_TOKEN to scrape them.")
    scheme, _, presented = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(presented.strip().encode(), access.metrics_token.encode()):
        raise Unauthorized(
            "Send the metrics token as a bearer token.", headers={"WWW-Authenticate": 'Bearer realm="metrics"'}
        )


@get(
    "/metrics",
    operation_id="getMetrics",
    summary="Prometheus metrics of every worker",
    description=(
        "Request counts and durations by route template, business counters (applications, rule decisions, "
        "face outcomes), breaker states, open payouts, the outbox backlog, pool and process gauges, in the "
        "Prometheus text format. Counts cover every server worker. Needs the metrics token "
        "(HAOBAN_METRICS_TOKEN) as a bearer token; off without one in production, open in the demo."
    ),
    tags=["health"],
    security=[{"metricsBearer": []}],
    responses=problems(401, 404, codes={401: "unauthorized"}),
    media_type=MEDIA_TYPE,
)
async def metrics(request: Request[Any, Any, Any], state: State, runtime: RuntimeDep) -> str:
    check_metrics_access(state.observability, request.headers.get("authorization"))
    registry: Metrics = state.metrics
    return registry.render(pool_stats(runtime), await families(runtime))
