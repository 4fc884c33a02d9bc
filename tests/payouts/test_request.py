"""Requesting a payout: one transaction moves the money to clearing and queues the send."""

from __future__ import annotations

from uuid import uuid4

import pytest

from haoban.db.pool import unit_of_work
from haoban.kit.errors import ValidationFailed
from haoban.ledger import service as ledger
from haoban.ledger.rules import CLEARING, member_account
from haoban.ledger.service import BalanceChanged, InsufficientFunds
from haoban.outbox import service as outbox
from haoban.payouts import repository as repo
from haoban.payouts import service as payouts
from haoban.payouts.service import PayoutExists
from haoban.runtime import Runtime
from tests.payouts.money import APPLICANT, CARD, assert_ledger_consistent, funded_member, money_runtime, now, request

__all__ = ["money_runtime"]


async def test_a_request_moves_money_to_clearing_and_queues_the_send(money_runtime: Runtime) -> None:
    async with unit_of_work(money_runtime.pool) as conn:
        citizen_id = await funded_member(conn, 50_000)
    view = await request(money_runtime, citizen_id, 20_000)
    assert view.status == "requested"
    assert view.bank_card_masked == "**** 3445"
    async with unit_of_work(money_runtime.pool) as conn:
        assert await ledger.member_balance(conn, citizen_id) == 30_000
        assert await ledger.account_balance(conn, CLEARING) == 20_000
        row = await outbox.get(conn, kind="payout.send", ref=str(view.payout_id))
        assert row is not None
        assert row.payload == {"payout_id": str(view.payout_id)}
        assert row.done_at is None
        stored = await repo.get(conn, view.payout_id)
        assert stored is not None
        assert CARD not in stored.card_enc
        assert "张三" not in stored.account_name_enc
        events = await payouts.events(conn, view.payout_id)
        assert [(e.from_status, e.to_status, e.actor_type) for e in events] == [(None, "requested", "citizen")]
        await assert_ledger_consistent(conn)


async def test_one_payout_per_application(money_runtime: Runtime) -> None:
    async with unit_of_work(money_runtime.pool) as conn:
        citizen_id = await funded_member(conn, 50_000)
    application_id = uuid4()
    await request(money_runtime, citizen_id, 100, application_id=application_id)
    with pytest.raises(PayoutExists):
        await request(money_runtime, citizen_id, 100, application_id=application_id)
    async with unit_of_work(money_runtime.pool) as conn:
        assert await ledger.member_balance(conn, citizen_id) == 49_900
        found = await payouts.for_application(conn, application_id)
        assert found is not None
        assert found.amount_fen == 100


async def test_insufficient_funds_writes_nothing(money_runtime: Runtime) -> None:
    async with unit_of_work(money_runtime.pool) as conn:
        citizen_id = await funded_member(conn, 100)
    application_id = uuid4()
    with pytest.raises(InsufficientFunds):
        await request(money_runtime, citizen_id, 101, application_id=application_id)
    async with unit_of_work(money_runtime.pool) as conn:
        assert await payouts.for_application(conn, application_id) is None
        assert await conn.fetchval("SELECT count(*) FROM outbox") == 0
        assert await ledger.member_balance(conn, citizen_id) == 100


async def test_closing_withdrawal_must_take_the_whole_balance(money_runtime: Runtime) -> None:
    async with unit_of_work(money_runtime.pool) as conn:
        citizen_id = await funded_member(conn, 1_000)
    with pytest.raises(BalanceChanged):
        await request(money_runtime, citizen_id, 999, close_account=True)
    view = await request(money_runtime, citizen_id, 1_000, close_account=True)
    assert view.status == "requested"


async def test_the_card_number_is_checked_and_the_cipher_required(money_runtime: Runtime) -> None:
    async with unit_of_work(money_runtime.pool) as conn:
        citizen_id = await funded_member(conn, 1_000)
    with pytest.raises(ValidationFailed) as caught:
        await request(money_runtime, citizen_id, 10, card_no="12ab")
    assert caught.value.errors[0].field == "card_no"
    async with unit_of_work(money_runtime.pool) as conn:
        with pytest.raises(TypeError, match="cipher"):
            await payouts.request_payout(
                conn,
                application_id=uuid4(),
                citizen_id=citizen_id,
                amount_fen=10,
                bank_name="b",
                card_no=CARD,
                account_name="n",
                close_account=False,
                actor=APPLICANT,
                at=now(),
            )
    assert member_account(citizen_id).startswith("hpf:member:")
