"""SQL of the sandbox fund centre: its book (`sandbox_fund`) and the accounts it publishes (`shared`)."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import asyncpg

from haoban.fundcentre.ports import DebitAnswer, DebitInstruction, PostedDebit

Executor = asyncpg.Pool | asyncpg.Connection

_DEBIT = (
    "WITH prior AS (SELECT status, reason, balance_after_fen FROM sandbox_fund.debits WHERE instruction_id = $1::uuid),"
    " acct AS (SELECT account_no, balance_fen, status FROM shared.hpf_accounts WHERE account_no = $2::text FOR UPDATE),"
    " verdict AS (SELECT CASE"
    "   WHEN NOT EXISTS (SELECT 1 FROM acct) THEN 'unknown_account'"
    # A sealed account pays only the debit that empties and closes it (离职/户口迁出提取 销户).
    "   WHEN (SELECT status FROM acct) <> 'normal' AND NOT ((SELECT status FROM acct) = 'sealed'"
    "     AND $8::boolean AND (SELECT balance_fen FROM acct) = $3::bigint) THEN 'account_not_normal'"
    "   WHEN (SELECT balance_fen FROM acct) <> $4::bigint THEN 'balance_changed'"
    "   WHEN (SELECT balance_fen FROM acct) < $3::bigint THEN 'insufficient_funds'"
    "   ELSE NULL END AS reason WHERE NOT EXISTS (SELECT 1 FROM prior)),"
    " debited AS (UPDATE shared.hpf_accounts a SET balance_fen = a.balance_fen - $3::bigint,"
    "   status = CASE WHEN $8::boolean AND a.balance_fen = $3::bigint THEN 'closed' ELSE a.status END,"
    "   updated_at = $6::timestamptz, updated_by = 'fund_centre'"
    "   FROM verdict v WHERE a.account_no = $2::text AND v.reason IS NULL RETURNING a.balance_fen),"
    " booked AS (INSERT INTO shared.hpf_withdrawals (account_no, withdrawn_on, kind, amount_fen, reference)"
    "   SELECT $2::text, $7::date, $5::text, $3::bigint, 'haoban:' || $1::uuid::text FROM debited),"
    " written AS (INSERT INTO sandbox_fund.debits (instruction_id, account_no, kind, amount_fen, expected_balance_fen,"
    "   status, reason, balance_after_fen, received_at)"
    "   SELECT $1::uuid, $2::text, $5::text, $3::bigint, $4::bigint,"
    "   CASE WHEN v.reason IS NULL THEN 'accepted' ELSE 'refused' END, v.reason,"
    "   (SELECT balance_fen FROM debited), $6::timestamptz FROM verdict v"
    "   ON CONFLICT (instruction_id) DO NOTHING RETURNING status, reason, balance_after_fen)"
    " SELECT status, reason, balance_after_fen FROM written"
    " UNION ALL SELECT status, reason, balance_after_fen FROM prior"
)


async def debit(db: Executor, instruction: DebitInstruction, at: datetime) -> DebitAnswer | None:
    """One statement, one transaction of the fund centre's own: check, debit, book. None: a concurrent
    twin of the same instruction won the insert (ask again)."""
    row = await db.fetchrow(
        _DEBIT,
        instruction.instruction_id,
        instruction.account_no,
        instruction.amount_fen,
        instruction.expected_balance_fen,
        instruction.kind,
        at,
        instruction.on,
        instruction.close_account,
    )
    if row is None:
        return None
    return DebitAnswer(
        instruction_id=instruction.instruction_id,
        status=row["status"],
        reason=row["reason"],
        balance_after_fen=row["balance_after_fen"],
    )


async def reverse(conn: asyncpg.Connection, instruction_id: UUID, at: datetime) -> DebitAnswer | None:
    """Give an accepted debit back (in the caller's transaction); idempotent."""
    row = await conn.fetchrow(
        "SELECT account_no, amount_fen, status FROM sandbox_fund.debits WHERE instruction_id = $1 FOR UPDATE",
        instruction_id,
    )
    if row is None:
        return None
    if row["status"] == "accepted":
        await conn.execute(
            "UPDATE shared.hpf_accounts SET balance_fen = balance_fen + $2,"
            " status = CASE WHEN status = 'closed' THEN 'normal' ELSE status END,"
            " updated_at = $3, updated_by = 'fund_centre' WHERE account_no = $1",
            row["account_no"],
            row["amount_fen"],
            at,
        )
        await conn.execute(
            "DELETE FROM shared.hpf_withdrawals WHERE account_no = $1 AND reference = 'haoban:' || $2::text",
            row["account_no"],
            str(instruction_id),
        )
        await conn.execute(
            "UPDATE sandbox_fund.debits SET status = 'reversed', reversed_at = $2 WHERE instruction_id = $1",
            instruction_id,
            at,
        )
    return DebitAnswer(instruction_id=instruction_id, status="reversed" if row["status"] != "refused" else "refused")


async def debits(db: Executor, since: datetime) -> list[PostedDebit]:
    rows = await db.fetch(
        "SELECT instruction_id, account_no, amount_fen, status, received_at FROM sandbox_fund.debits"
        " WHERE received_at >= $1 ORDER BY received_at, instruction_id",
        since,
    )
    return [PostedDebit(**dict(r)) for r in rows]


async def balance(db: Executor, account_no: str) -> int | None:
    value: int | None = await db.fetchval(
        "SELECT balance_fen FROM shared.hpf_accounts WHERE account_no = $1", account_no
    )
    return value


async def counter_withdrawal(
    conn: asyncpg.Connection, *, account_no: str, amount_fen: int, on: date, reference: str, at: datetime
) -> int | None:
    """A withdrawal made at the fund centre's counter (another channel): the new balance, or None when
    the account cannot pay it."""
    balance_after: int | None = await conn.fetchval(
        "WITH debited AS (UPDATE shared.hpf_accounts SET balance_fen = balance_fen - $2,"
        " updated_at = $5, updated_by = 'fund_centre_counter'"
        " WHERE account_no = $1 AND status = 'normal' AND balance_fen >= $2 RETURNING balance_fen),"
        " booked AS (INSERT INTO shared.hpf_withdrawals (account_no, withdrawn_on, kind, amount_fen, reference)"
        " SELECT $1, $3, 'other', $2, $4 FROM debited)"  # a kind of the closed set (exchange.vocab)
        " SELECT balance_fen FROM debited",
        account_no,
        amount_fen,
        on,
        reference,
        at,
    )
    return balance_after
