"""The app's Prometheus metrics, on `prometheus_client`.

One `Metrics` is created per app in `create_app` with its own registry, so
tests that build several apps do not share counts. With several server workers
`serve` points PROMETHEUS_MULTIPROC_DIR at a temporary folder it owns before
the workers start; each worker then writes its values there and any worker's
scrape adds them all up (prometheus_client's multi-process mode). Process
metrics (CPU, memory, open files) are those of the worker that answered.

Values read at scrape time (pool, breakers, payouts, outbox) are passed to
`render` as ready-made families, so a scrape costs one render and no locks.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import NamedTuple

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

MEDIA_TYPE = "text/plain; version=0.0.4"  # Litestar appends "; charset=utf-8" to text/*
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
UNMATCHED = "<unmatched>"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"})

# `_created` series double every counter and no dashboard here reads them.
disable_created_metrics()  # type: ignore[no-untyped-call]


class PoolStats(NamedTuple):
    size: int
    idle: int
    max: int


class _Families(Collector):
    """Families computed just before a scrape."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self._families = list(families)

    def collect(self) -> Iterator[Metric]:
        yield from self._families


class Metrics:
    """Request, pool and business metrics of one app."""

    def __init__(self, *, multiprocess: bool = False) -> None:
        """`multiprocess`: several workers share PROMETHEUS_MULTIPROC_DIR (`ObservabilitySettings.multiprocess_dir`)."""
        self.multiprocess = multiprocess
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "haoban_http_requests", "HTTP requests by method, route template and status.",
            ["method", "route", "status"], registry=r,
        )  # fmt: skip
        self.durations = Histogram(
            "haoban_http_request_duration_seconds", "HTTP request duration by method and route template.",
            ["method", "route"], buckets=BUCKETS, registry=r,
        )  # fmt: skip
        self.applications = Counter(
            "haoban_applications", "Applications submitted and decided, by service and outcome.",
            ["service", "outcome"], registry=r,
        )  # fmt: skip
        self.rule_decisions = Counter(
            "haoban_rule_decisions", "Rule decisions by rule set, its version and the outcome.",
            ["rule_set", "version", "outcome"], registry=r,
        )  # fmt: skip
        self.face_outcomes = Counter(
            "haoban_face_outcomes", "Face verifications by flow and reason (ok or the refusal code).",
            ["flow", "reason"], registry=r,
        )  # fmt: skip
        self.events = Counter(
            "haoban_domain_events", "Domain events (submitted, decided, paid, refused, reconciled, ...) by code.",
            ["event", "code"], registry=r,
        )  # fmt: skip
        if not self.multiprocess:
            ProcessCollector(registry=r)
            PlatformCollector(registry=r)

    def observe(self, *, method: str, route: str, status: int, seconds: float) -> None:
        """Record one request. `route` must be a template, never a raw path."""
        if method not in METHODS:
            method = "OTHER"  # clients choose the method; keep the label bounded
        self.requests.labels(method, route, str(status)).inc()
        self.durations.labels(method, route).observe(seconds)

    def on_event(self, event: str, fields: Mapping[str, str]) -> None:
        """Count a domain event (haoban.kit.events); labels come from bounded code sets only."""
        if event == "face_verified":
            self.face_outcomes.labels(fields.get("flow", ""), fields.get("code", "")).inc()
            return
        self.events.labels(event, fields.get("code", "")).inc()
        if event == "submitted":
            self.applications.labels(fields.get("service", ""), "submitted").inc()
        elif event == "decided":
            self.applications.labels(fields.get("service", ""), fields.get("status", "")).inc()
            self.rule_decisions.labels(
                fields.get("rule_set", ""), fields.get("version", ""), fields.get("outcome", "")
            ).inc()

    def render(self, pool: PoolStats | None = None, families: Iterable[Metric] = ()) -> str:
        """The text format: this app's (or every worker's) values, then the scrape-time families."""
        extra = list(families)
        if pool is not None:
            for name, help_text, value in (
                ("haoban_db_pool_size", "Open connections in the database pool of the answering worker.", pool.size),
                ("haoban_db_pool_idle", "Idle connections in the database pool of the answering worker.", pool.idle),
                ("haoban_db_pool_max", "Most connections the database pool may open, per worker.", pool.max),
            ):
                extra.append(GaugeMetricFamily(name, help_text, value=value))
        if self.multiprocess:
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            ProcessCollector(registry=registry)
            text = generate_latest(registry)
        else:
            text = generate_latest(self.registry)
        scraped = CollectorRegistry()
        scraped.register(_Families(extra))
        return (text + generate_latest(scraped)).decode()


def gauge(name: str, help_text: str, labels: list[str], values: Iterable[tuple[list[str], float]]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, help_text, labels=labels)
    for label_values, value in values:
        family.add_metric(label_values, value)
    return family
