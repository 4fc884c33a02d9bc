"""W3C traceparent: taken from the request, in the logs and the response, passed on to outbound calls."""

from __future__ import annotations

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.fundcentre.http import HttpFundCentre
from haoban.kit.tracing import Trace, parse, trace_var
from haoban.settings import FundCentreSettings
from tests.observability.test_logging import json_logs, lines

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


def _answer(response: httpx.Response) -> Trace:
    version, trace_id, span_id, flags = response.headers["traceresponse"].split("-")
    assert version == "00"
    return Trace(trace_id, span_id, flags)


async def test_a_valid_traceparent_gives_the_trace_id_to_logs_and_response(
    client: AsyncTestClient[Litestar],
) -> None:
    with json_logs() as stream:
        response = await client.get("/health/live", headers={"traceparent": PARENT})
    trace = _answer(response)
    assert trace.trace_id == TRACE_ID
    assert trace.flags == "01"
    assert trace.span_id != "00f067aa0ba902b7"  # our own span
    [access] = [e for e in lines(stream) if e["logger"] == "haoban.access"]
    assert access["trace_id"] == TRACE_ID


@pytest.mark.parametrize(
    "header",
    [
        "garbage",
        f"ff-{TRACE_ID}-00f067aa0ba902b7-01",  # version ff is forbidden
        f"00-{'0' * 32}-00f067aa0ba902b7-01",  # all-zero trace id
        f"00-{TRACE_ID}-{'0' * 16}-01",  # all-zero parent
        f"00-{TRACE_ID.upper()}-00f067aa0ba902b7-01",  # upper case hex
        f"00-{TRACE_ID}-00f067aa0ba902b7-01-extra",  # version 00 has exactly four fields
    ],
)
async def test_an_invalid_traceparent_starts_a_new_trace(client: AsyncTestClient[Litestar], header: str) -> None:
    response = await client.get("/health/live", headers={"traceparent": header})
    trace = _answer(response)
    assert trace.trace_id != TRACE_ID
    assert len(trace.trace_id) == 32
    assert parse(response.headers["traceresponse"]) is not None


async def test_no_traceparent_means_a_new_trace_per_request(client: AsyncTestClient[Litestar]) -> None:
    first = _answer(await client.get("/health/live"))
    second = _answer(await client.get("/health/live"))
    assert first.trace_id != second.trace_id


def test_a_future_version_with_more_fields_is_accepted() -> None:
    trace = parse(f"cc-{TRACE_ID}-00f067aa0ba902b7-01-what-comes-next")
    assert trace is not None
    assert trace.trace_id == TRACE_ID


async def test_outbound_calls_carry_the_current_trace() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("traceparent", ""))
        return httpx.Response(200, json={"balance_fen": 5})

    centre = HttpFundCentre(
        FundCentreSettings(base_url="http://fund.test", token="t"), transport=httpx.MockTransport(handler)
    )
    token = trace_var.set(Trace(TRACE_ID, "1111111111111111", "01"))
    try:
        await centre.balance("ZZ000001")
    finally:
        trace_var.reset(token)
        await centre.aclose()
    [header] = seen
    assert header == f"00-{TRACE_ID}-1111111111111111-01"
