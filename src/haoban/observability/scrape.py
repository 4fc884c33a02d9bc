"""What /metrics reads at scrape time: the pool, the breakers, open payouts and the outbox backlog.

The database reads are two small statements on partial indexes, under a short
statement timeout; if they fail the scrape still answers, with
`haoban_scrape_database_ok 0`, so a dead database shows up instead of a gap.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from prometheus_client.core import Metric

from haoban.db.pool import unit_of_work
from haoban.exchange.sources.breaker import CircuitBreaker, State
from haoban.kit.errors import Unavailable
from haoban.observability.metrics import PoolStats, gauge
from haoban.outbox import service as outbox
from haoban.payouts import service as payouts
from haoban.runtime import Runtime

STATE_VALUE: dict[State, int] = {"closed": 0, "half_open": 1, "open": 2}
OPEN_STATUSES = ("requested", "sent", "failed")
_TIMEOUT_S = 2
log = logging.getLogger(__name__)


def _breaker(adapter: Any) -> CircuitBreaker | None:
    """An HTTP adapter's breaker, through the sandbox's fault wrapper if there is one."""
    for _ in range(3):
        found = getattr(adapter, "breaker", None) or getattr(getattr(adapter, "http", None), "breaker", None)
        if isinstance(found, CircuitBreaker):
            return found
        adapter = getattr(adapter, "inner", None)
        if adapter is None:
            return None
    return None


def breakers(runtime: Runtime) -> Iterator[tuple[str, CircuitBreaker]]:
    try:
        sources = runtime.sources
    except Unavailable:
        sources = None
    if sources is not None:
        for name in sources.__struct_fields__:
            found = _breaker(getattr(sources, name))
            if found is not None:
                yield name, found
    bank = _breaker(runtime.bank)
    if bank is not None:
        yield "bank", bank


def pool_stats(runtime: Runtime) -> PoolStats | None:
    try:
        pool = runtime.pool
    except Unavailable:
        return None
    return PoolStats(size=pool.get_size(), idle=pool.get_idle_size(), max=pool.get_max_size())


async def families(runtime: Runtime) -> list[Metric]:
    states = [
        ([name, state], float(breaker.state == state)) for name, breaker in breakers(runtime) for state in STATE_VALUE
    ]
    out: list[Metric] = [
        gauge(
            "haoban_breaker_state",
            "Circuit breaker of each outbound system: 1 for its current state (closed, half_open, open).",
            ["source", "state"],
            states,
        )
    ]
    ok = 0.0
    try:
        async with unit_of_work(runtime.pool, transaction=False) as conn, conn.transaction(readonly=True):
            await conn.execute(f"SET LOCAL statement_timeout = {_TIMEOUT_S * 1000}")
            counts = {c.status: c.count for c in await payouts.open_counts(conn)}
            backlog = await outbox.backlog(conn)
        ok = 1.0
    except Exception:  # any failure: report it as a value, not a 500
        log.warning("metrics could not read the database", exc_info=True)
    else:
        out.append(
            gauge(
                "haoban_payouts_open",
                "Payouts not yet final, by status.",
                ["status"],
                [([s], float(counts.get(s, 0))) for s in OPEN_STATUSES],
            )
        )
        age = (runtime.clock.now() - backlog.oldest_at).total_seconds() if backlog.oldest_at else 0.0
        out.append(
            gauge("haoban_outbox_pending", "Outbox rows not yet done (capped at 100000).", [], [([], backlog.depth)])
        )
        out.append(
            gauge(
                "haoban_outbox_oldest_age_seconds",
                "Age of the oldest pending outbox row; 0 when empty.",
                [],
                [([], max(age, 0.0))],
            )
        )
    out.append(gauge("haoban_scrape_database_ok", "1 when the scrape could read the database.", [], [([], ok)]))
    return out
