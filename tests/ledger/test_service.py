"""The ledger against real PostgreSQL: opening, balanced immutable groups, no overdraft."""

from __future__ import annotations

import asyncio
from uuid import uuid4

import asyncpg
import pytest

from haoban.db.pool import connect
from haoban.ledger import service as ledger
from haoban.ledger.rules import CLEARING, CONTRIBUTIONS, Posting, member_account, move
from haoban.ledger.service import AccountClosed, InsufficientFunds, NoFundAccount
from tests.payouts.money import assert_ledger_consistent, funded_member, new_citizen, now


async def test_opening_is_idempotent_and_comes_from_contributions(db: asyncpg.Connection) -> None:
    citizen_id = await new_citizen(db)
    assert await ledger.member_balance(db, citizen_id) is None
    async with db.transaction():
        first = await ledger.open_member_account(
            db, citizen_id=citizen_id, opening_balance_fen=12_345, source_ref="fund", at=now()
        )
    async with db.transaction():
        again = await ledger.open_member_account(
            db, citizen_id=citizen_id, opening_balance_fen=99_999, source_ref="fund", at=now()
        )
    assert first == again == 12_345
    assert await ledger.account_balance(db, CONTRIBUTIONS) == -12_345
    assert await db.fetchval("SELECT count(*) FROM ledger_groups WHERE kind = 'opening'") == 1
    await assert_ledger_consistent(db)


async def test_a_debit_beyond_the_balance_is_insufficient_funds(db: asyncpg.Connection) -> None:
    citizen_id = await funded_member(db, 1_000)
    with pytest.raises(InsufficientFunds) as caught:
        async with db.transaction():
            await ledger.post_group(
                db,
                kind="payout",
                ref="p1",
                postings=move(1_001, source=member_account(citizen_id), target=CLEARING),
                at=now(),
            )
    assert caught.value.status == 409
    assert caught.value.code == "insufficient_funds"
    assert await ledger.member_balance(db, citizen_id) == 1_000
    async with db.transaction():
        await ledger.post_group(
            db,
            kind="payout",
            ref="p2",
            postings=move(1_000, source=member_account(citizen_id), target=CLEARING),
            at=now(),
        )
    assert await ledger.member_balance(db, citizen_id) == 0
    await assert_ledger_consistent(db)


async def test_a_closed_account_refuses_withdrawals(db: asyncpg.Connection) -> None:
    citizen_id = await funded_member(db, 500)
    async with db.transaction():
        assert await ledger.close_member_account(db, citizen_id, now())
    with pytest.raises(AccountClosed):
        async with db.transaction():
            await ledger.post_group(
                db,
                kind="payout",
                ref="p",
                postings=move(1, source=member_account(citizen_id), target=CLEARING),
                at=now(),
            )


async def test_a_movement_from_an_unknown_account_is_refused(db: asyncpg.Connection) -> None:
    with pytest.raises(NoFundAccount):
        async with db.transaction():
            await ledger.post_group(
                db, kind="payout", ref="p", postings=move(1, source=member_account(uuid4()), target=CLEARING), at=now()
            )


async def test_entries_and_groups_can_not_be_changed_or_deleted(db: asyncpg.Connection) -> None:
    await funded_member(db, 700)
    for sql in (
        "UPDATE ledger_entries SET amount_fen = amount_fen + 1",
        "DELETE FROM ledger_entries",
        "TRUNCATE ledger_entries CASCADE",
        "UPDATE ledger_groups SET ref = 'x'",
        "DELETE FROM ledger_groups",
    ):
        with pytest.raises(asyncpg.PostgresError, match="append-only"):
            await db.execute(sql)
    await assert_ledger_consistent(db)


async def test_the_database_refuses_an_unbalanced_group_at_commit(db: asyncpg.Connection) -> None:
    citizen_id = await funded_member(db, 700)
    ids = {r["code"]: r["id"] for r in await db.fetch("SELECT id, code FROM ledger_accounts")}

    async def one_sided() -> None:
        async with db.transaction():
            gid = await db.fetchval(
                "INSERT INTO ledger_groups (kind, ref, created_at) VALUES ('payout', 'bad', now()) RETURNING id"
            )
            await db.execute(
                "INSERT INTO ledger_entries (group_id, account_id, direction, amount_fen, created_at)"
                " VALUES ($1, $2, 'debit', 100, now()), ($1, $3, 'credit', 99, now())",
                gid,
                ids[member_account(citizen_id)],
                ids[CLEARING],
            )

    async def empty() -> None:
        async with db.transaction():
            await db.execute("INSERT INTO ledger_groups (kind, ref, created_at) VALUES ('payout', 'empty', now())")

    with pytest.raises(asyncpg.CheckViolationError, match="unbalanced"):
        await one_sided()
    with pytest.raises(asyncpg.CheckViolationError, match="unbalanced"):
        await empty()
    with pytest.raises(asyncpg.CheckViolationError):
        await db.execute(
            "INSERT INTO ledger_entries (group_id, account_id, direction, amount_fen, created_at)"
            " VALUES (1, $1, 'debit', 0, now())",
            ids[CLEARING],
        )
    await assert_ledger_consistent(db)


async def test_the_database_refuses_a_negative_member_balance(db: asyncpg.Connection) -> None:
    citizen_id = await funded_member(db, 10)
    with pytest.raises(asyncpg.CheckViolationError):
        await db.execute("UPDATE ledger_accounts SET balance_fen = -1 WHERE citizen_id = $1", citizen_id)


async def test_a_posting_group_must_balance_before_it_reaches_the_database(db: asyncpg.Connection) -> None:
    from haoban.ledger.rules import UnbalancedGroup

    bad = [
        Posting(account=CONTRIBUTIONS, direction="debit", amount_fen=2),
        Posting(account=CLEARING, direction="credit", amount_fen=1),
    ]
    with pytest.raises(UnbalancedGroup):
        await ledger.post_group(db, kind="payout", ref="x", postings=bad, at=now())


async def _debit(url: str, citizen_id: object, amount: int, ref: str, start: asyncio.Event) -> bool:
    conn = await connect(url)
    try:
        await start.wait()
        async with conn.transaction():
            await ledger.post_group(
                conn,
                kind="payout",
                ref=ref,
                postings=move(amount, source=member_account(citizen_id), target=CLEARING),  # type: ignore[arg-type]
                at=now(),
            )
            await asyncio.sleep(0.01)  # hold the row lock a little, to widen any race
        return True
    except InsufficientFunds:
        return False
    finally:
        await conn.close()


async def test_twenty_concurrent_debits_never_overdraw(db: asyncpg.Connection, db_url: str) -> None:
    citizen_id = await funded_member(db, 1_050)
    start = asyncio.Event()
    tasks = [asyncio.create_task(_debit(db_url, citizen_id, 100, f"c{i}", start)) for i in range(20)]
    await asyncio.sleep(0.3)  # every connection open and waiting
    start.set()
    results = await asyncio.gather(*tasks)
    assert sum(results) == 10
    assert await ledger.member_balance(db, citizen_id) == 50
    await assert_ledger_consistent(db)


async def _naive_debit(url: str, citizen_id: object, amount: int, start: asyncio.Event) -> bool:
    """The bug we avoid: read the balance, decide, then write an absolute value."""
    conn = await connect(url)
    try:
        await start.wait()
        async with conn.transaction():
            balance = await conn.fetchval("SELECT balance_fen FROM ledger_accounts WHERE citizen_id = $1", citizen_id)
            await asyncio.sleep(0.05)
            if balance < amount:
                return False
            await conn.execute(
                "UPDATE ledger_accounts SET balance_fen = $2 WHERE citizen_id = $1", citizen_id, balance - amount
            )
        return True
    finally:
        await conn.close()


async def test_canary_naive_read_then_write_pays_out_more_than_the_balance(db: asyncpg.Connection, db_url: str) -> None:
    citizen_id = await funded_member(db, 1_000)
    start = asyncio.Event()
    tasks = [asyncio.create_task(_naive_debit(db_url, citizen_id, 100, start)) for _ in range(20)]
    await asyncio.sleep(0.3)
    start.set()
    paid = sum(await asyncio.gather(*tasks)) * 100
    assert paid > 1_000  # lost updates: the naive version hands out money it does not have
