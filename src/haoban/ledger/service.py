"""Ledger use cases: open member accounts, post balanced groups, read balances.

Callers own the transaction. Member balances are changed only by a conditional
UPDATE (see repository.debit_member), so no interleaving of transactions can
take a member account below zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar
from uuid import UUID

import asyncpg

from haoban.db.batch import Batch
from haoban.db.sql import Cte, Param
from haoban.kit.errors import Conflict
from haoban.ledger import repository as repo
from haoban.ledger.repository import MemberAccount
from haoban.ledger.rules import (
    CONTRIBUTIONS,
    Posting,
    check_balanced,
    is_member_account,
    member_account,
    move,
    net_by_account,
)


class InsufficientFunds(Conflict):
    code: ClassVar[str] = "insufficient_funds"


class AccountClosed(Conflict):
    code: ClassVar[str] = "account_closed"


class NoFundAccount(Conflict):
    code: ClassVar[str] = "no_fund_account"


class BalanceChanged(Conflict):
    """A whole-balance withdrawal no longer matches the balance."""

    code: ClassVar[str] = "balance_changed"


async def post_group(
    conn: asyncpg.Connection,
    *,
    kind: str,
    ref: str,
    postings: Sequence[Posting],
    at: datetime,
    exact_debit: bool = False,
) -> int:
    """Write one balanced group and apply it to member balances; returns the group id.

    `exact_debit`: a member debit must take the whole balance (account closing).
    """
    check_balanced(postings)
    net = net_by_account(postings)
    # Member balances first, in code order: a stable lock order between transactions.
    for code in sorted(c for c in net if is_member_account(c)):
        change = net[code]
        if change > 0 and await repo.credit_member(conn, code, change) is None:
            raise NoFundAccount(f"no ledger account {code}")
        if change < 0 and await repo.debit_member(conn, code, -change, exact=exact_debit) is None:
            raise await _debit_refusal(conn, code, -change)
    group_id, written = await repo.insert_group(
        conn, kind=kind, ref=ref, rows=[(p.account, p.direction, p.amount_fen) for p in postings], at=at
    )
    if written != len(postings):
        raise NoFundAccount("a ledger account of this movement does not exist")
    return group_id


async def _debit_refusal(conn: asyncpg.Connection, code: str, amount_fen: int) -> Conflict:
    """Why a conditional debit matched no row (read after the fact, for the message only)."""
    acc = await repo.account(conn, code)
    if acc is None:
        return NoFundAccount("no housing-fund account")
    if acc.closed:
        return AccountClosed("the housing-fund account is closed")
    if acc.balance_fen < amount_fen:
        return InsufficientFunds(f"balance is below {amount_fen} fen")
    return BalanceChanged("the balance changed; decide again")


async def open_member_account(
    conn: asyncpg.Connection, *, citizen_id: UUID, opening_balance_fen: int, source_ref: str, at: datetime
) -> int:
    """Idempotent: opens hpf:member:<id> with an opening group from hpf:contributions the first time.

    Returns the balance. A second call changes nothing, whatever its opening balance.
    """
    if opening_balance_fen < 0:
        raise ValueError("opening balance must not be negative")
    code = member_account(citizen_id)
    if await repo.insert_member_account(conn, citizen_id=citizen_id, code=code, at=at) and opening_balance_fen > 0:
        await post_group(
            conn,
            kind="opening",
            ref=f"{code}:{source_ref}",
            postings=move(opening_balance_fen, source=CONTRIBUTIONS, target=code),
            at=at,
        )
    balance = await member_balance(conn, citizen_id)
    assert balance is not None  # noqa: S101 (just opened or already there)
    return balance


async def sync_member_account(
    conn: asyncpg.Connection,
    *,
    citizen_id: UUID,
    balance_fen: int,
    seen_fen: int | None,
    source_ref: str,
    at: datetime,
) -> int:
    """Open the member mirror, or bring it to the fund centre's balance (the system of record).

    The difference (deposits, counter withdrawals, anything the fund centre booked
    that Haoban did not instruct) is one balanced `fund_sync` group against
    hpf:contributions. `seen_fen` is the mirror's balance when the caller read the
    fund centre: a mirror that moved since (a concurrent withdrawal) is left alone,
    since the fund centre's answer may predate that move. Returns `balance_fen`.
    """
    if balance_fen < 0:
        raise ValueError("a balance must not be negative")
    code = member_account(citizen_id)
    current = await repo.locked_member_balance(conn, citizen_id)
    if current is not None and current != seen_fen:
        return balance_fen  # moved concurrently; the fund centre's expected-balance check guards the debit
    if current is None:
        return await open_member_account(
            conn, citizen_id=citizen_id, opening_balance_fen=balance_fen, source_ref=source_ref, at=at
        )
    change = balance_fen - current
    if change:
        source, target = (CONTRIBUTIONS, code) if change > 0 else (code, CONTRIBUTIONS)
        await post_group(
            conn,
            kind="fund_sync",
            ref=f"{code}:{source_ref}",
            postings=move(abs(change), source=source, target=target),
            at=at,
        )
    return balance_fen


async def member_balance(conn: asyncpg.Connection, citizen_id: UUID) -> int | None:
    """None: the account was never opened."""
    acc = await repo.member(conn, citizen_id)
    return acc.balance_fen if acc else None


async def member(conn: asyncpg.Connection, citizen_id: UUID) -> MemberAccount | None:
    return await repo.member(conn, citizen_id)


async def close_member_account(conn: asyncpg.Connection, citizen_id: UUID, at: datetime) -> bool:
    """Close an open member account (retirement); withdrawals are refused afterwards."""
    return await repo.close_member(conn, citizen_id, at)


async def account_balance(conn: asyncpg.Connection, code: str) -> int:
    """Any account's balance (credits minus debits), summed from its entries."""
    return await repo.balance_from_entries(conn, code)


async def unbalanced_groups(conn: asyncpg.Connection) -> list[int]:
    return await repo.unbalanced_groups(conn)


async def member_balance_drift(conn: asyncpg.Connection) -> list[str]:
    return await repo.member_balance_drift(conn)


# --- the same movements as CTEs of a larger statement (haoban.db.batch) -------

DEBIT_REFUSED = "debit_refused"


def add_move(
    b: Batch, prefix: str, *, kind: str, ref: str, postings: Sequence[Posting], at: datetime, guard: Cte
) -> Cte:
    """`post_group` for a movement between system accounts, written when `guard` has a row; the group's handle."""
    check_balanced(postings)
    if any(is_member_account(code) for code in net_by_account(postings)):
        raise ValueError("a movement touching a member account goes through add_member_debit")
    return repo.add_group(
        b,
        prefix,
        kind=kind,
        ref=ref,
        rows=[(p.account, p.direction, p.amount_fen) for p in postings],
        at=at,
        guard=guard,
    )


def add_member_debit(
    b: Batch, prefix: str, *, kind: str, ref: str, postings: Sequence[Posting], at: datetime, exact_debit: bool = False
) -> Cte:
    """`post_group` for a movement out of one member account, as CTEs; returns a guard CTE (`<prefix>_ok`).

    The conditional debit must apply or the whole statement is refused
    (`batch.refused(exc) == DEBIT_REFUSED`; `debit_refusal` then says why).
    """
    check_balanced(postings)
    members = {code: change for code, change in net_by_account(postings).items() if is_member_account(code)}
    if len(members) != 1 or next(iter(members.values())) >= 0:
        raise ValueError("add_member_debit moves money out of exactly one member account")
    code, change = next(iter(members.items()))
    debit = repo.add_debit(b, prefix, code=code, amount_fen=-change, exact=exact_debit)
    guard = b.require(f"{prefix}_ok", debit, DEBIT_REFUSED)
    repo.add_group(
        b,
        prefix,
        kind=kind,
        ref=ref,
        rows=[(p.account, p.direction, p.amount_fen) for p in postings],
        at=at,
        guard=guard,
    )
    return guard


async def debit_refusal(conn: asyncpg.Connection, postings: Sequence[Posting]) -> Conflict:
    """Why `add_member_debit`'s debit did not apply (read after the fact, for the message only)."""
    code, change = next((c, v) for c, v in net_by_account(postings).items() if is_member_account(c))
    return await _debit_refusal(conn, code, -change)


def add_close_emptied(b: Batch, prefix: str, *, citizens: Cte, at: datetime) -> Cte:
    """Close the open member accounts of `citizens` (a CTE with citizen_id) whose balance is zero."""
    return repo.add_close_emptied(b, prefix, citizens=citizens, at=at)


def add_member_balance(b: Batch, prefix: str, citizen_id: UUID | Param) -> Cte:
    """The member balance as a CTE of a larger statement (column balance_fen; no row: never opened)."""
    return repo.add_member_balance(b, prefix, citizen_id)
