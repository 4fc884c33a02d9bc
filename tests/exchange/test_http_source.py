"""The HTTP source adapters against the simulator in its own process, over real HTTP and real PostgreSQL."""

from __future__ import annotations

import hashlib
import logging
import socket
import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest

from haoban.exchange.sources.frontdb import FrontDbIdentity, frontdb_sources
from haoban.exchange.sources.http import HttpEstate, HttpHousingFund, HttpSocialSecurity, HttpSourceSet, http_sources
from haoban.exchange.sources.ports import Sources, SourceUnavailable
from haoban.kit.clock import FrozenClock
from haoban.kit.context import request_id_var
from haoban.settings import SOURCE_NAMES, ExchangeSettings
from tests.exchange.conftest import PHOTO, SIM_TOKEN, STRANGER, Simulator

Factory = Callable[..., Sources]


@pytest.fixture
async def http_adapters(sim_server: Simulator, clock: FrozenClock) -> AsyncIterator[Factory]:
    """HTTP adapters for all six sources at the simulator, as the ports; their client is closed after the test."""
    made: list[HttpSourceSet] = []

    def make(
        *, timeout_ms: int = 2000, retries: int = 2, failures: int = 5, token: str = SIM_TOKEN, base: str = ""
    ) -> Sources:
        settings = ExchangeSettings(
            http_sources=dict.fromkeys(SOURCE_NAMES, base or sim_server.base_url),
            source_timeout_ms=timeout_ms,
            http_retries=retries,
            breaker_failures=failures,
            breaker_reset_s=30,
        )
        adapters = http_sources(settings, clock, tokens=dict.fromkeys(SOURCE_NAMES, token))
        made.append(adapters)
        return Sources(**adapters)  # type: ignore[arg-type]  # each name holds its own port's adapter

    yield make
    for adapters in made:
        await adapters.aclose()


async def test_every_record_round_trips_identically_to_the_frontdb_adapter(
    sim_server: Simulator, sim_rows: str, sim_frontdb_pool: asyncpg.Pool, http_adapters: Factory
) -> None:
    http = http_adapters()
    db = frontdb_sources(sim_frontdb_pool)
    person = sim_rows
    token = request_id_var.set("req-roundtrip-1")
    try:
        pairs: list[tuple[Any, Any]] = [
            (await http.identity.lookup(person), await db.identity.lookup(person)),
            (await http.household.lookup(person), await db.household.lookup(person)),
            (await http.housing_fund.lookup(person), await db.housing_fund.lookup(person)),
            (await http.estate.properties_of(person), await db.estate.properties_of(person)),
            (await http.marriage.lookup(person), await db.marriage.lookup(person)),
            (await http.social_security.lookup(person), await db.social_security.lookup(person)),
        ]
        assert await http.identity.photo(person) == PHOTO == await db.identity.photo(person)
    finally:
        request_id_var.reset(token)
    for over_http, from_db in pairs:
        assert from_db.record  # the rows are there, so equality below is not None == None
        assert over_http.record == from_db.record
        assert over_http.system == "http:" + sim_server.base_url
    assert len(pairs[1][0].record.members) == 2
    assert len(pairs[2][0].record.withdrawals) == 2
    assert pairs[3][0].record[0].area_m2 == 89.37
    assert (await sim_server.state())["last_request_id"] == "req-roundtrip-1"
    # The hash is of the raw body the source sent.
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {SIM_TOKEN}"}) as raw_http:
        raw = (await raw_http.get(f"{sim_server.base_url}/v1/marriage/{person}")).content
    assert pairs[4][0].response_hash == hashlib.sha256(raw).hexdigest()


async def test_a_person_unknown_to_the_source_is_no_record(
    sim_server: Simulator, sim_rows: str, http_adapters: Factory
) -> None:
    adapters = http_adapters()
    before = await sim_server.requests()
    for port in (adapters.identity, adapters.household, adapters.housing_fund, adapters.marriage):
        assert (await port.lookup(STRANGER)).record is None
    assert (await adapters.social_security.lookup(STRANGER)).record is None
    assert (await adapters.estate.properties_of(STRANGER)).record == []
    assert await adapters.identity.photo(STRANGER) is None
    assert await sim_server.requests() == before + 7


async def test_a_server_error_that_recovers_is_retried_and_succeeds(
    sim_server: Simulator, sim_rows: str, http_adapters: Factory
) -> None:
    adapters = http_adapters(retries=2)
    await sim_server.control(fail_next=2)
    before = await sim_server.requests()
    fetched = await adapters.social_security.lookup(sim_rows)
    assert fetched.record is not None
    assert fetched.record.contribution_months == 72
    assert await sim_server.requests() == before + 3


async def test_server_errors_beyond_the_retries_are_unavailable(
    sim_server: Simulator, sim_rows: str, http_adapters: Factory
) -> None:
    adapters = http_adapters(retries=2)
    await sim_server.control(fail_next=10)
    before = await sim_server.requests()
    with pytest.raises(SourceUnavailable) as err:
        await adapters.marriage.lookup(sim_rows)
    assert err.value.reason == "http_error"
    assert await sim_server.requests() == before + 3


async def test_a_client_error_is_not_retried(sim_server: Simulator, sim_rows: str, http_adapters: Factory) -> None:
    adapters = http_adapters(token="wrong-token")
    before = await sim_server.requests()
    with pytest.raises(SourceUnavailable) as err:
        await adapters.marriage.lookup(sim_rows)
    assert (err.value.reason, err.value.detail) == ("http_error", "status 401")
    assert await sim_server.requests() == before + 1


async def test_a_stalled_source_times_out_within_the_deadline(
    sim_server: Simulator, sim_rows: str, http_adapters: Factory
) -> None:
    adapters = http_adapters(timeout_ms=500, retries=3)
    await sim_server.control(stall=True)
    started = time.monotonic()
    with pytest.raises(SourceUnavailable) as err:
        await adapters.identity.lookup(sim_rows)
    elapsed = time.monotonic() - started
    assert err.value.reason == "timeout"
    assert 0.45 <= elapsed < 0.5 + 0.3


async def test_retries_share_one_deadline(sim_server: Simulator, sim_rows: str, http_adapters: Factory) -> None:
    """Slow 503s: three attempts of 300 ms would take 900 ms; the call must give up at 500 ms."""
    adapters = http_adapters(timeout_ms=500, retries=2)
    await sim_server.control(latency_ms=300, fail_next=10)
    started = time.monotonic()
    with pytest.raises(SourceUnavailable) as err:
        await adapters.household.lookup(sim_rows)
    elapsed = time.monotonic() - started
    assert err.value.reason == "timeout"  # the second attempt was cut short by the deadline
    assert elapsed < 0.5 + 0.3


async def test_repeated_failures_open_the_breaker_and_then_calls_fail_fast(
    sim_server: Simulator, sim_rows: str, http_adapters: Factory, clock: FrozenClock
) -> None:
    adapters = http_adapters(retries=0, failures=3)
    housing_fund = adapters.housing_fund
    await sim_server.control(failure_rate=1.0)
    before = await sim_server.requests()
    for _ in range(3):
        with pytest.raises(SourceUnavailable) as err:
            await housing_fund.lookup(sim_rows)
        assert err.value.reason == "http_error"
    assert await sim_server.requests() == before + 3
    await sim_server.control()  # the source recovers, but the breaker does not know yet
    for _ in range(5):
        started = time.monotonic()
        with pytest.raises(SourceUnavailable) as err:
            await housing_fund.lookup(sim_rows)
        assert err.value.reason == "circuit_open"
        assert time.monotonic() - started < 0.05
    assert await sim_server.requests() == before + 3
    # Other sources have breakers of their own.
    assert (await adapters.marriage.lookup(sim_rows)).record is not None
    clock.advance(timedelta(seconds=30))
    trial = (await housing_fund.lookup(sim_rows)).record
    assert trial is not None
    assert trial.balance_fen == 12345678
    assert (await housing_fund.lookup(sim_rows)).record is not None
    assert await sim_server.requests() == before + 6


async def test_a_garbage_body_is_a_bad_response(sim_server: Simulator, sim_rows: str, http_adapters: Factory) -> None:
    adapters = http_adapters()
    await sim_server.control(garbage=True)
    before = await sim_server.requests()
    with pytest.raises(SourceUnavailable) as err:
        await adapters.identity.lookup(sim_rows)
    assert err.value.reason == "bad_response"
    assert await sim_server.requests() == before + 1


async def test_json_of_the_wrong_shape_is_a_bad_response(clock: FrozenClock) -> None:
    """Valid JSON that is not the record type (a department changed its schema) is not an answer."""
    body = msgspec.json.encode({"city": "北京", "contribution_months": "seventy-two", "updated_at": "yesterday"})
    transport = httpx.MockTransport(lambda _: httpx.Response(200, content=body))
    async with httpx.AsyncClient(transport=transport) as client:
        settings = ExchangeSettings(http_sources={"social_security": "http://source.test"})
        adapters = http_sources(settings, clock, client=client)
        port = adapters["social_security"]
        assert isinstance(port, HttpSocialSecurity)
        with pytest.raises(SourceUnavailable) as err:
            await port.lookup(STRANGER)
        await adapters.aclose()  # the client was ours, so it stays open
        assert not client.is_closed
    assert err.value.reason == "bad_response"


async def test_an_unreachable_source_fails_within_the_deadline_and_logs_no_id_number(
    http_adapters: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"  # bound, never listening: connection refused
        adapters = http_adapters(base=dead, timeout_ms=800, retries=2)
        started = time.monotonic()
        with caplog.at_level(logging.INFO, logger="haoban.exchange"), pytest.raises(SourceUnavailable) as err:
            await adapters.marriage.lookup(STRANGER)
    assert err.value.reason == "http_error"
    assert time.monotonic() - started < 0.8 + 0.3
    mine = [r for r in caplog.records if r.name == "haoban.exchange"]
    assert [r.__dict__["attempt"] for r in mine] == [1, 2, 3]
    assert all(r.__dict__["source"] == "marriage" for r in mine)
    for record in mine:
        assert STRANGER not in record.getMessage()
        assert STRANGER not in str(record.__dict__)
        assert record.__dict__["id_number"].endswith(STRANGER[-4:])


async def test_only_configured_sources_are_replaced_by_http_adapters(
    clock: FrozenClock, sim_frontdb_pool: asyncpg.Pool
) -> None:
    async with http_sources(ExchangeSettings(http_sources={"estate": "http://estate.test/"}), clock) as adapters:
        assert set(adapters) == {"estate"}
        sources = adapters.overlay(frontdb_sources(sim_frontdb_pool))
        assert isinstance(sources.estate, HttpEstate)
        assert sources.estate.http.system == "http:http://estate.test"
        assert isinstance(sources.identity, FrontDbIdentity)
    assert adapters.client.is_closed  # the set made its client, so closing the set closes it


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"code": "no_record", "detail": "no record"}', None),
        (b"<html>Not Found</html>", "http_error"),
        (b'{"detail": "Not Found"}', "http_error"),
    ],
)
async def test_only_a_marked_404_means_no_record(clock: FrozenClock, body: bytes, expected: str | None) -> None:
    """A 404 from a wrong base URL or a proxy must never read as "has no fund account"."""
    transport = httpx.MockTransport(lambda _: httpx.Response(404, content=body))
    async with httpx.AsyncClient(transport=transport) as client:
        adapters = http_sources(
            ExchangeSettings(http_sources={"housing_fund": "http://source.test"}), clock, client=client
        )
        port = adapters["housing_fund"]
        assert isinstance(port, HttpHousingFund)
        if expected is None:
            assert (await port.lookup(STRANGER)).record is None
        else:
            with pytest.raises(SourceUnavailable) as err:
                await port.lookup(STRANGER)
            assert err.value.reason == expected
