"""`haoban serve --workers 2`: any worker's scrape counts the requests of both (multi-process mode)."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.conftest import LiveServer
from tests.factories import bearer
from tests.observability.test_metrics import METRICS_TOKEN, parse, sample

REQUESTS = 30


def test_every_scrape_sees_the_requests_of_every_worker(live_server: Callable[..., LiveServer]) -> None:
    server = live_server(HAOBAN_WORKERS="2", HAOBAN_METRICS_TOKEN=METRICS_TOKEN)
    before = _count(server)
    for _ in range(REQUESTS):  # a new connection each time, so the kernel spreads them over the workers
        assert httpx.get(f"{server.base_url}/health/live", timeout=10).status_code == 200
    for _ in range(6):  # whichever worker answers the scrape
        assert _count(server) == before + REQUESTS


def _count(server: LiveServer) -> float:
    response = httpx.get(f"{server.base_url}/metrics", headers=bearer(METRICS_TOKEN), timeout=10)
    assert response.status_code == 200
    found = sample(parse(response.text), "haoban_http_requests_total", method="GET", route="/health/live", status="200")
    return found or 0.0
