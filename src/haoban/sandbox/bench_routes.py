"""A raw withdrawal for the speed bench (bench/run_applications.py); 404 unless sandbox mode is on.

It does only the money part of an instant withdrawal, in the request's one
transaction, through the ledger's own functions: the conditional debit of the
member balance and one balanced group member -> clearing (the postings
`payouts.service.request_payout` writes), then the balance read the deciding
transaction also makes. No rules, no payout row, no outbox, no bank. The bench
divides `POST /v1/applications` by this route's req/s.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID, uuid4

import msgspec
from litestar import Router, post
from litestar.params import Body

from haoban.deps import Conn, RuntimeDep
from haoban.kit.openapi import PUBLIC, example, problems, success
from haoban.ledger import service as ledger
from haoban.ledger.rules import CLEARING, member_account, move
from haoban.sandbox.guard import sandbox_only

_CITIZEN = "7d0b6a52-3c1e-4f0a-9b8e-000000000001"


class RawWithdrawalCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    citizen_id: UUID
    amount_fen: Annotated[int, msgspec.Meta(gt=0, le=10**12)]


class RawWithdrawal(msgspec.Struct, frozen=True, kw_only=True):
    group_id: int
    balance_fen: int


@post(
    "/raw-withdrawal",
    operation_id="sandboxBenchRawWithdrawal",
    summary="Debit a member balance into clearing, and nothing else (the bench's baseline)",
    description=(
        "One balanced ledger group member -> clearing with the conditional balance debit, in one transaction,"
        " as an instant withdrawal writes it; no rules, payout, outbox or bank. The member account must be open."
        " 409 `insufficient_funds` when the balance is too low, `no_fund_account` when there is no account."
    ),
    status_code=201,
    responses={
        **success(201, RawWithdrawal, "Debited", example("debited", {"group_id": 4211, "balance_fen": 3_864_900})),
        **problems(400, 404, 409, 422, codes={409: "insufficient_funds"}),
    },
)
async def raw_withdrawal(
    data: Annotated[
        RawWithdrawalCreate,
        Body(examples=example("one yuan", {"citizen_id": _CITIZEN, "amount_fen": 100})),
    ],
    conn: Conn,
    runtime: RuntimeDep,
) -> RawWithdrawal:
    group_id = await ledger.post_group(
        conn,
        kind="payout",
        ref=str(uuid4()),
        postings=move(data.amount_fen, source=member_account(data.citizen_id), target=CLEARING),
        at=runtime.clock.now(),
    )
    balance = await ledger.member_balance(conn, data.citizen_id)
    if balance is None:  # post_group debited the account, so it exists
        raise RuntimeError("the member account disappeared inside the transaction")
    return RawWithdrawal(group_id=group_id, balance_fen=balance)


router = Router(
    path="/sandbox/bench",
    route_handlers=[raw_withdrawal],
    guards=[sandbox_only],
    tags=["sandbox"],
    security=PUBLIC,
)
