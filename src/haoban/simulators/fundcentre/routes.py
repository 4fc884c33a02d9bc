"""Sandbox fund-centre routes for testers: a withdrawal at the counter (another channel). 404 unless sandbox."""

from __future__ import annotations

import uuid
from typing import Annotated
from zoneinfo import ZoneInfo

import msgspec
from litestar import Router, post
from litestar.params import Body

from haoban.db.pool import unit_of_work
from haoban.deps import RuntimeDep
from haoban.kit.errors import Conflict
from haoban.kit.openapi import PUBLIC, example, problems, success
from haoban.sandbox.guard import sandbox_only
from haoban.simulators.fundcentre import repository as repo

CHINA_TZ = "Asia/Shanghai"


class CounterWithdrawal(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    account_no: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    amount_fen: Annotated[int, msgspec.Meta(gt=0, le=10**15, description="Integer fen")]


class CounterWithdrawn(msgspec.Struct, frozen=True, kw_only=True):
    account_no: str
    reference: str
    balance_fen: int


class CannotPay(Conflict):
    code = "fund_centre_cannot_pay"


_BODY = {"account_no": "ZZ2019000123", "amount_fen": 500000}


@post(
    "/counter-withdrawals",
    operation_id="sandboxFundCounterWithdrawal",
    summary="Withdraw at the fund centre's counter (another channel than Haoban)",
    description=(
        "The sandbox fund centre debits the account in its own transaction and books a `counter` withdrawal, as a"
        " counter clerk would. Haoban's next withdrawal is decided on the new balance; one already decided on the"
        " old balance is refused by the fund centre (`balance_changed`). 409 when the account is not normal or the"
        " balance is too low."
    ),
    status_code=201,
    responses={
        **success(
            201,
            CounterWithdrawn,
            "Debited",
            example("debited", {"account_no": "ZZ2019000123", "reference": "CTR-1a2b3c4d5e6f", "balance_fen": 3365000}),
        ),
        **problems(400, 404, 409, 422),
    },
)
async def counter_withdrawal(
    data: Annotated[CounterWithdrawal, Body(examples=example("a counter withdrawal", _BODY))], runtime: RuntimeDep
) -> CounterWithdrawn:
    reference = f"CTR-{uuid.uuid4().hex[:12]}"
    now = runtime.clock.now()
    async with unit_of_work(runtime.pool) as conn:
        balance = await repo.counter_withdrawal(
            conn,
            account_no=data.account_no,
            amount_fen=data.amount_fen,
            on=now.astimezone(ZoneInfo(CHINA_TZ)).date(),
            reference=reference,
            at=now,
        )
    if balance is None:
        raise CannotPay("The account is not normal, or its balance is below the amount.")
    return CounterWithdrawn(account_no=data.account_no, reference=reference, balance_fen=balance)


router = Router(
    path="/sandbox/fund-centre",
    route_handlers=[counter_withdrawal],
    guards=[sandbox_only],
    tags=["sandbox"],
    security=PUBLIC,
)
