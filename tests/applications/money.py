"""Checks on the ledger, the sandbox bank and the outbox, read straight from the database."""

from __future__ import annotations

from datetime import date

import asyncpg

from haoban.outbox.main import background_runtime
from haoban.root import outbox_worker
from haoban.rules import registry
from haoban.settings import Settings


async def params(db: asyncpg.Connection, rule_set: str, on: date) -> dict[str, int | str]:
    """The parameters in effect, read from the loaded rule set (never copied into tests)."""
    return (await registry.rule_set_for(db, rule_set, on)).params_on(on)


async def member_balance(db: asyncpg.Connection, citizen_id: str) -> int | None:
    value: int | None = await db.fetchval(
        "SELECT balance_fen FROM ledger_accounts WHERE code = $1", f"hpf:member:{citizen_id}"
    )
    return value


async def unbalanced_groups(db: asyncpg.Connection) -> int:
    value: int = await db.fetchval(
        "SELECT count(*) FROM (SELECT group_id FROM ledger_entries GROUP BY group_id"
        " HAVING sum(CASE WHEN direction = 'debit' THEN amount_fen ELSE -amount_fen END) <> 0) g"
    )
    return value


async def bank_transfers(db: asyncpg.Connection, card_no: str) -> list[asyncpg.Record]:
    return await db.fetch(
        "SELECT payout_id, amount_fen, status FROM sandbox_bank.transfers WHERE card_no = $1", card_no
    )


async def drain(settings: Settings, db_url: str) -> int:
    """Run the outbox worker until nothing is due, on its own pool in this event loop (as `haoban worker --once`)."""
    async with background_runtime(settings, db_url) as runtime:
        return await outbox_worker(runtime).drain()
