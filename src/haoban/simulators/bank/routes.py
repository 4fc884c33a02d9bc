"""Sandbox bank routes for testers: what a card received, and the fault knobs. 404 unless sandbox mode."""

from __future__ import annotations

from typing import Annotated

from litestar import Router, get, post
from litestar.params import Body, QueryParameter

from haoban.deps import RuntimeDep
from haoban.kit.openapi import PUBLIC, example, problems, success
from haoban.payouts.schemas import BankFaults, SandboxTransfers
from haoban.sandbox.guard import sandbox_only
from haoban.simulators.bank import repository as repo

_TRANSFER = {
    "payout_id": "0b7e3c1a-6d2f-4e8a-9c5b-1f2e3d4c5b6a",
    "bank_ref": "SBX4F2A9C0D1E3B5A77",
    "card_no": "6222020200112233445",
    "account_name": "张三",
    "amount_fen": 1200000,
    "status": "settled",
    "failure_reason": None,
    "received_at": "2026-11-28T10:30:01Z",
}
_FAULTS = {"latency_ms": 200, "failure_rate": 0.1, "timeout_rate": 0.05}


@get(
    "/transfers",
    operation_id="sandboxBankTransfers",
    summary="Transfers the sandbox bank received for a card, newest first",
    responses={
        **success(200, SandboxTransfers, "Newest first", example("one transfer", {"transfers": [_TRANSFER]})),
        **problems(400, 404, 422),
    },
)
async def transfers(
    runtime: RuntimeDep,
    card_no: Annotated[str, QueryParameter(name="card_no", pattern=r"^\d{12,19}$")],
    limit: Annotated[int, QueryParameter(name="limit", ge=1, le=100)] = 20,
) -> SandboxTransfers:
    return SandboxTransfers(transfers=await repo.for_card(runtime.pool, card_no, limit))


@post(
    "/faults",
    operation_id="sandboxBankFaults",
    summary="Set the sandbox bank's latency, failure rate and timeout rate",
    description=(
        "failure_rate: calls refused before booking (retried). timeout_rate: calls that time out after the"
        " latency, half of them after booking the transfer (settled later by asking the bank)."
        " Card numbers ending in 0000 always fail permanently."
    ),
    status_code=200,
    responses={
        **success(200, BankFaults, "The faults now in effect", example("faults", _FAULTS)),
        **problems(400, 404, 422),
    },
)
async def set_faults(
    data: Annotated[BankFaults, Body(examples=example("slow, flaky bank", _FAULTS))], runtime: RuntimeDep
) -> BankFaults:
    await repo.set_faults(runtime.pool, data, runtime.clock.now())
    return await repo.faults(runtime.pool)


router = Router(
    path="/sandbox/bank",
    route_handlers=[transfers, set_faults],
    guards=[sandbox_only],
    tags=["sandbox"],
    security=PUBLIC,
)
