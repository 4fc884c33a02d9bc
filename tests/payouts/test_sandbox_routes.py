"""The sandbox bank's tester routes: transfers per card and the fault knobs."""

from __future__ import annotations

from uuid import uuid4

from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.app import create_app
from haoban.db.pool import unit_of_work
from haoban.kit.clock import FrozenClock
from haoban.runtime import Runtime
from tests.conftest import make_settings
from tests.payouts.money import CARD, money_runtime

__all__ = ["money_runtime"]


async def test_faults_are_validated_and_stored(client: AsyncTestClient[Litestar]) -> None:
    ok = await client.post("/sandbox/bank/faults", json={"latency_ms": 250, "failure_rate": 0.5, "timeout_rate": 0})
    assert ok.status_code == 200, ok.text
    assert ok.json() == {"latency_ms": 250, "failure_rate": 0.5, "timeout_rate": 0.0}
    for body, field in (
        ({"latency_ms": 30_001}, "latency_ms"),
        ({"failure_rate": 1.5}, "failure_rate"),
        ({"timeout_rate": -0.1}, "timeout_rate"),
        ({"latency": 1}, "latency"),
    ):
        bad = await client.post("/sandbox/bank/faults", json=body)
        assert bad.status_code == 422, bad.text
        assert bad.headers["content-type"].startswith("application/problem+json")
        assert field in bad.text


async def test_transfers_received_by_a_card_are_listed(
    client: AsyncTestClient[Litestar], money_runtime: Runtime
) -> None:
    payout_id = uuid4()
    await money_runtime.bank.transfer(payout_id=payout_id, card_no=CARD, account_name="张三", amount_fen=1234)
    listed = await client.get("/sandbox/bank/transfers", params={"card_no": CARD})
    assert listed.status_code == 200, listed.text
    [transfer] = listed.json()["transfers"]
    assert transfer["payout_id"] == str(payout_id)
    assert (transfer["amount_fen"], transfer["status"]) == (1234, "settled")
    other = await client.get("/sandbox/bank/transfers", params={"card_no": "6222000000000001"})
    assert other.json() == {"transfers": []}
    assert (await client.get("/sandbox/bank/transfers", params={"card_no": "x"})).status_code == 422
    async with unit_of_work(money_runtime.pool) as conn:
        assert await conn.fetchval("SELECT count(*) FROM sandbox_bank.transfers") == 1


async def test_the_routes_are_404_outside_sandbox_mode(db_url: str, clock: FrozenClock) -> None:
    app = create_app(make_settings(db_url, HAOBAN_SANDBOX="false"), database_url=db_url, clock=clock)
    async with AsyncTestClient(app=app, base_url="http://haoban.test") as client:
        assert (await client.post("/sandbox/bank/faults", json={})).status_code == 404
        assert (await client.get("/sandbox/bank/transfers", params={"card_no": CARD})).status_code == 404


async def test_the_app_wires_the_sandbox_bank_in_sandbox_mode_and_none_otherwise(
    db_url: str, clock: FrozenClock
) -> None:
    for sandbox, expected in (("true", "SandboxBank"), ("false", "NoBank")):
        app = create_app(make_settings(db_url, HAOBAN_SANDBOX=sandbox), database_url=db_url, clock=clock)
        async with AsyncTestClient(app=app, base_url="http://haoban.test"):
            runtime: Runtime = app.state.runtime
            assert type(runtime.bank).__name__ == expected
