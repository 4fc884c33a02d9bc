"""/metrics on prometheus_client: scrape-time gauges, process metrics and multi-process mode."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.app import create_app
from haoban.kit.clock import FrozenClock
from haoban.observability.scrape import breakers
from haoban.outbox import repository as outbox_repo
from haoban.payouts import service as payouts
from haoban.runtime import Runtime
from haoban.settings import Settings
from tests.conftest import make_settings
from tests.observability.test_metrics import METRICS_TOKEN, parse, sample, scrape
from tests.payouts.money import APPLICANT, CARD, funded_member, now


@pytest.fixture
def settings(db_url: str) -> Settings:
    # The outbox worker is off: the rows below must stay pending.
    return make_settings(db_url, HAOBAN_METRICS_TOKEN=METRICS_TOKEN, HAOBAN_OUTBOX_WORKER="false")


async def test_outbox_backlog_and_oldest_age_are_read_at_scrape_time(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, clock: FrozenClock
) -> None:
    _, samples = await scrape(client)
    assert sample(samples, "haoban_outbox_pending") == 0
    assert sample(samples, "haoban_outbox_oldest_age_seconds") == 0
    assert sample(samples, "haoban_scrape_database_ok") == 1
    now = clock.now()
    await outbox_repo.insert(db, kind="test.kind", ref="a", payload={}, at=now - timedelta(seconds=90))
    await outbox_repo.insert(db, kind="test.kind", ref="b", payload={}, at=now - timedelta(seconds=5))
    _, samples = await scrape(client)
    assert sample(samples, "haoban_outbox_pending") == 2
    assert sample(samples, "haoban_outbox_oldest_age_seconds") == 90
    for status in ("requested", "sent", "failed"):
        assert sample(samples, "haoban_payouts_open", status=status) == 0


async def test_an_open_payout_is_counted_by_its_status(
    client: AsyncTestClient[Litestar], app: Litestar, db: asyncpg.Connection
) -> None:
    citizen_id = await funded_member(db, 50_000)
    async with db.transaction():
        await payouts.request_payout(
            db,
            application_id=uuid.uuid4(),
            citizen_id=citizen_id,
            amount_fen=20_000,
            bank_name="中国工商银行",
            card_no=CARD,
            account_name="张三",
            close_account=False,
            actor=APPLICANT,
            at=now(),
            cipher=app.state.runtime.cipher,
        )
    _, samples = await scrape(client)
    assert sample(samples, "haoban_payouts_open", status="requested") == 1
    assert sample(samples, "haoban_payouts_open", status="sent") == 0


async def test_process_metrics_are_exported(client: AsyncTestClient[Litestar]) -> None:
    _, samples = await scrape(client)
    assert (sample(samples, "process_resident_memory_bytes") or 0) > 0
    assert sample(samples, "process_cpu_seconds_total") is not None


async def test_breaker_state_per_source(db_url: str, clock: FrozenClock) -> None:
    # Port 9 (discard) on loopback: nothing listens; the breaker is opened by hand below.
    settings: Settings = make_settings(
        db_url,
        HAOBAN_SOURCE_ESTATE_URL="http://127.0.0.1:9",
        HAOBAN_METRICS_TOKEN=METRICS_TOKEN,
        HAOBAN_OUTBOX_WORKER="false",
    )
    app = create_app(settings, database_url=db_url, clock=clock)
    async with AsyncTestClient(app=app, base_url="http://haoban.test") as client:
        runtime: Runtime = app.state.runtime
        found = dict(breakers(runtime))
        assert set(found) == {"estate"}
        _, samples = await scrape(client)
        assert sample(samples, "haoban_breaker_state", source="estate", state="closed") == 1
        assert sample(samples, "haoban_breaker_state", source="estate", state="open") == 0
        for _ in range(settings.exchange.breaker_failures):
            found["estate"].record_failure()
        _, samples = await scrape(client)
        assert sample(samples, "haoban_breaker_state", source="estate", state="open") == 1
        assert sample(samples, "haoban_breaker_state", source="estate", state="closed") == 0


_WORKER = """
from haoban.observability.metrics import Metrics
m = Metrics(multiprocess=True)
m.observe(method="GET", route="/x", status=200, seconds=0.01)
m.applications.labels("rent_withdrawal", "approved").inc()
"""

_SCRAPER = """
from haoban.observability.metrics import Metrics
print(Metrics(multiprocess=True).render(), end="")
"""


def test_multiprocess_mode_adds_up_every_worker(tmp_path: Path) -> None:
    """Two worker processes write; a third, as any worker answering a scrape would, sees both."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for _ in range(2):
        subprocess.run([sys.executable, "-c", _WORKER], env=env, check=True, timeout=60)
    out = subprocess.run(
        [sys.executable, "-c", _SCRAPER], env=env, check=True, timeout=60, capture_output=True, text=True
    ).stdout
    samples = parse(out)
    assert sample(samples, "haoban_http_requests_total", method="GET", route="/x", status="200") == 2
    assert sample(samples, "haoban_applications_total", service="rent_withdrawal", outcome="approved") == 2
    assert sample(samples, "process_resident_memory_bytes") is not None
