"""Domain events: an instant withdrawal and a refusal, through HTTP, in the logs and in /metrics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import numpy as np
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.identity.service import verification
from haoban.identity.throttle import ThrottleState
from haoban.kit.clock import FrozenClock
from haoban.kit.events import listener_var
from haoban.settings import Settings
from tests.applications.people import apply, person
from tests.conftest import make_settings
from tests.observability.test_logging import json_logs, lines
from tests.observability.test_metrics import METRICS_TOKEN, sample, scrape

Client = AsyncTestClient[Litestar]


@pytest.fixture
def settings(db_url: str) -> Settings:
    return make_settings(db_url, HAOBAN_METRICS_TOKEN=METRICS_TOKEN)


async def test_paid_withdrawal_logs_submitted_decided_paid_and_counts_them(
    client: Client, db: asyncpg.Connection, settings: Settings, clock: FrozenClock
) -> None:
    renter = await person(client, db, settings, clock, seq=601)
    with json_logs() as stream:
        response = await apply(client, renter, "hpf.withdraw.rent", headers={"X-Request-ID": "ev-1"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "paid"
    events = [e for e in lines(stream) if e["logger"] == "haoban.events"]
    assert [e["extra"]["event"] for e in events] == ["submitted", "decided", "paid"]
    assert all(e["request_id"] == "ev-1" for e in events)
    decided = events[1]["extra"]
    assert decided["code"] == "approve"
    assert decided["status"] == "approved"
    assert f"{decided['rule_set']}@{decided['version']}" == body["decision"]["rule_set_version"]
    assert events[0]["extra"]["application"].startswith(body["application_id"][:8])
    assert body["application_id"] not in stream.getvalue()  # masked ids only
    assert renter.id_number not in stream.getvalue()
    assert renter.citizen_id not in stream.getvalue()

    _, samples = await scrape(client)
    apps = "haoban_applications_total"
    assert sample(samples, apps, service="hpf.withdraw.rent", outcome="submitted") == 1
    assert sample(samples, apps, service="hpf.withdraw.rent", outcome="approved") == 1
    rule_set, version = decided["rule_set"], decided["version"]
    decisions = "haoban_rule_decisions_total"
    assert sample(samples, decisions, rule_set=rule_set, version=version, outcome="approve") == 1
    assert sample(samples, "haoban_domain_events_total", event="paid", code="settled") == 1


async def test_refusal_logs_the_reason_code(
    client: Client, db: asyncpg.Connection, settings: Settings, clock: FrozenClock
) -> None:
    owner = await person(client, db, settings, clock, seq=602, owns_property=True)
    with json_logs() as stream:
        response = await apply(client, owner, "hpf.withdraw.rent")
    assert response.json()["status"] == "rejected"
    refused = [e["extra"] for e in lines(stream) if e["logger"] == "haoban.events" and e["extra"]["event"] == "refused"]
    assert {e["code"] for e in refused} >= {"owns_property_in_city"}
    _, samples = await scrape(client)
    assert sample(samples, "haoban_applications_total", service="hpf.withdraw.rent", outcome="rejected") == 1
    assert sample(samples, "haoban_domain_events_total", event="refused", code="owns_property_in_city") == 1


def test_face_lockout_is_announced_once_by_the_attempt_that_caused_it() -> None:
    seen: list[tuple[str, str]] = []
    token = listener_var.set(lambda event, fields: seen.append((event, fields["code"])))
    try:
        ref = verification.Reference(encoding=np.ones(128), citizen_id=None, refusal=None)
        now = datetime.now(UTC)
        before = ThrottleState(consecutive_failures=4)
        locked = ThrottleState(consecutive_failures=5, locked_until=now + timedelta(minutes=5))
        verification._announce("login", "failure", ref, locked, before)
        verification._announce("login", "locked", ref, locked, locked)
    finally:
        listener_var.reset(token)
    assert seen == [
        ("face_verified", "face_mismatch"),
        ("locked_out", "face_login_locked"),
        ("face_verified", "face_login_locked"),
    ]
