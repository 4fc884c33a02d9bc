"""GET /metrics: request counters and histograms by route template, and pool gauges."""

from __future__ import annotations

import re
from typing import cast

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.observability.metrics import BUCKETS, Metrics
from haoban.runtime import Runtime
from haoban.settings import Settings
from tests.conftest import make_settings
from tests.factories import bearer, citizen_with_tokens

_SAMPLE = re.compile(r"^([a-z_]+)(?:\{(.*)\})? (\S+)$")
_LABEL = re.compile(r'([a-z_]+)="((?:[^"\\]|\\.)*)"')

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    """Prometheus text format to {(name, labels): value}; fails on any malformed line."""
    out: Samples = {}
    for line in text.splitlines():
        if line.startswith("#"):
            assert re.match(r"^# (HELP|TYPE) [a-z_]+ .+$", line), line
            continue
        found = _SAMPLE.match(line)
        assert found, line
        name, labels, value = found.groups()
        out[(name, frozenset(_LABEL.findall(labels or "")))] = float(value)
    return out


def sample(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


METRICS_TOKEN = "metrics-token-for-tests-0123456789abcdef"


@pytest.fixture
def settings(db_url: str) -> Settings:
    """/metrics is behind a token now (issue 13); the settings carry it."""
    return make_settings(db_url, HAOBAN_METRICS_TOKEN=METRICS_TOKEN)


async def scrape(client: AsyncTestClient[Litestar]) -> tuple[str, Samples]:
    response = await client.get("/metrics", headers=bearer(METRICS_TOKEN))
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    return response.text, parse(response.text)


async def test_counter_uses_route_templates_and_statuses(client: AsyncTestClient[Litestar]) -> None:
    citizen_id, pair = await citizen_with_tokens(client)
    assert (await client.get("/v1/me", headers=bearer(pair["access_token"]))).status_code == 200
    assert (await client.get("/v1/me")).status_code == 401
    assert (await client.get("/v1/me")).status_code == 401

    text, samples = await scrape(client)
    total = "haoban_http_requests_total"
    assert sample(samples, total, method="GET", route="/v1/me", status="200") == 1
    assert sample(samples, total, method="GET", route="/v1/me", status="401") == 2
    assert sample(samples, total, method="POST", route="/sandbox/citizens", status="201") == 1
    route = "/sandbox/citizens/{citizen_id}/tokens"
    assert sample(samples, total, method="POST", route=route, status="201") == 1
    assert citizen_id not in text


async def test_histogram_is_cumulative_and_matches_the_counter(client: AsyncTestClient[Litestar]) -> None:
    for _ in range(3):
        await client.get("/health/live")
    _, samples = await scrape(client)
    name = "haoban_http_request_duration_seconds"
    labels = {"method": "GET", "route": "/health/live"}
    buckets = [sample(samples, f"{name}_bucket", **labels, le=repr(b)) for b in BUCKETS]
    buckets.append(sample(samples, f"{name}_bucket", **labels, le="+Inf"))
    assert None not in buckets
    assert buckets == sorted(buckets)  # type: ignore[type-var]
    assert buckets[-1] == 3
    assert sample(samples, f"{name}_count", **labels) == 3
    total = sample(samples, f"{name}_sum", **labels)
    assert total is not None
    assert 0 < total < 30


async def test_unmatched_paths_share_one_label(client: AsyncTestClient[Litestar]) -> None:
    await client.get("/v1/no-such-thing/410105199001011234")
    await client.get("/another/raw-path")
    await client.request("BREW", "/health/live")
    text, samples = await scrape(client)
    total = "haoban_http_requests_total"
    assert sample(samples, total, method="GET", route="<unmatched>", status="404") == 2
    assert sample(samples, total, method="OTHER", route="<unmatched>", status="405") == 1
    assert "raw-path" not in text
    assert "no-such-thing" not in text
    assert "BREW" not in text


async def test_pool_gauges_read_the_live_pool(
    client: AsyncTestClient[Litestar], app: Litestar, settings: Settings
) -> None:
    await citizen_with_tokens(client)  # uses the pool
    _, samples = await scrape(client)
    runtime: Runtime = app.state.runtime
    pool = runtime.pool
    assert sample(samples, "haoban_db_pool_max") == settings.database.pool_max == pool.get_max_size()
    assert sample(samples, "haoban_db_pool_size") == pool.get_size() >= 1
    # The scrape's own database gauges (and the outbox worker) may hold a connection while the pool is
    # read, so idle is the live value at that moment: between 0 and the pool's size, never past it.
    assert 0 <= cast("float", sample(samples, "haoban_db_pool_idle")) <= pool.get_size()


async def test_each_app_has_its_own_registry(client: AsyncTestClient[Litestar], app: Litestar) -> None:
    await client.get("/health/live")
    assert isinstance(app.state.metrics, Metrics)
    assert "/health/live" in app.state.metrics.render()
    assert "/health/live" not in Metrics().render()


def test_bucket_bounds_are_inclusive() -> None:
    metrics = Metrics()
    metrics.observe(method="GET", route="/x", status=200, seconds=0.005)
    metrics.observe(method="GET", route="/x", status=200, seconds=11.0)
    samples = parse(metrics.render())
    bucket = "haoban_http_request_duration_seconds_bucket"
    assert sample(samples, bucket, method="GET", route="/x", le="0.005") == 1
    assert sample(samples, bucket, method="GET", route="/x", le="10.0") == 1
    assert sample(samples, bucket, method="GET", route="/x", le="+Inf") == 2


def test_label_values_are_escaped() -> None:
    metrics = Metrics()
    metrics.observe(method="GET", route='/a"b\\c', status=200, seconds=0.1)
    assert 'route="/a\\"b\\\\c"' in metrics.render()
