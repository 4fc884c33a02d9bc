"""The fund centre's HTTP adapter against a stand-in fund centre (httpx.MockTransport)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime

import httpx
import pytest

from haoban.fundcentre.http import HttpFundCentre
from haoban.fundcentre.ports import DebitInstruction, FundCentreUnavailable
from haoban.settings import FundCentreSettings

SETTINGS = FundCentreSettings(base_url="https://fund.example", token="t0ken", timeout_ms=500)
INSTRUCTION = DebitInstruction(
    instruction_id=uuid.UUID("00000000-0000-4000-8000-000000000001"),
    account_no="ZZ1",
    kind="rent",
    amount_fen=100,
    expected_balance_fen=1000,
    on=date(2026, 11, 28),
)


def centre(handler: httpx.MockTransport) -> HttpFundCentre:
    return HttpFundCentre(SETTINGS, transport=handler)


async def test_a_debit_is_posted_with_the_token_and_its_answer_decoded() -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        body = json.loads(request.content)
        return httpx.Response(
            200, json={"instruction_id": body["instruction_id"], "status": "refused", "reason": "balance_changed"}
        )

    answer = await centre(httpx.MockTransport(handle)).debit(INSTRUCTION)
    assert (answer.status, answer.reason) == ("refused", "balance_changed")
    assert seen[0].url.path == "/v1/debits"
    assert seen[0].headers["authorization"] == "Bearer t0ken"
    assert json.loads(seen[0].content)["expected_balance_fen"] == 1000


@pytest.mark.parametrize(
    "response",
    [httpx.Response(503), httpx.Response(200, content=b"not json"), httpx.Response(200, json={"status": "maybe"})],
)
async def test_anything_but_an_answer_is_unavailable(response: httpx.Response) -> None:
    with pytest.raises(FundCentreUnavailable):
        await centre(httpx.MockTransport(lambda _r: response)).debit(INSTRUCTION)


async def test_a_transport_error_is_unavailable_and_an_unknown_reversal_is_none() -> None:
    def broken(_request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("slow")

    with pytest.raises(FundCentreUnavailable):
        await centre(httpx.MockTransport(broken)).debit(INSTRUCTION)
    missing = centre(httpx.MockTransport(lambda _r: httpx.Response(404)))
    assert await missing.reverse(INSTRUCTION.instruction_id, reason="x") is None
    assert await missing.balance("ZZ1") is None


async def test_debits_since_are_listed() -> None:
    stamp = datetime(2026, 11, 28, tzinfo=UTC).isoformat()
    rows = [{"instruction_id": str(INSTRUCTION.instruction_id), "account_no": "ZZ1", "amount_fen": 100,
             "status": "accepted", "received_at": stamp}]  # fmt: skip
    listed = await centre(httpx.MockTransport(lambda _r: httpx.Response(200, json=rows))).debits(
        datetime(2026, 11, 1, tzinfo=UTC)
    )
    assert [d.amount_fen for d in listed] == [100]
