"""Pure ledger rules: account codes and the balancing of a group of postings.

The database checks the same invariants (a deferred constraint trigger); this
module lets the service refuse a bad group before it reaches the database and
is unit-tested without one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal
from uuid import UUID

import msgspec

CONTRIBUTIONS = "hpf:contributions"
CLEARING = "hpf:clearing"
SETTLEMENT = "bank:settlement"
MEMBER_PREFIX = "hpf:member:"

Direction = Literal["debit", "credit"]


class UnbalancedGroup(ValueError):
    """A group of postings that does not sum to zero, or is otherwise malformed."""


class Posting(msgspec.Struct, frozen=True, kw_only=True):
    """One side of a movement: a debit lowers a balance, a credit raises it."""

    account: str
    direction: Direction
    amount_fen: int


def member_account(citizen_id: UUID) -> str:
    return f"{MEMBER_PREFIX}{citizen_id}"


def is_member_account(code: str) -> bool:
    return code.startswith(MEMBER_PREFIX)


def signed(posting: Posting) -> int:
    """The posting's effect on its account's balance (credits minus debits)."""
    return posting.amount_fen if posting.direction == "credit" else -posting.amount_fen


def check_balanced(postings: Sequence[Posting]) -> None:
    """Raise UnbalancedGroup unless the postings form a valid double-entry group."""
    if len(postings) < 2:
        raise UnbalancedGroup("a group needs at least two postings")
    for p in postings:
        if type(p.amount_fen) is not int or p.amount_fen <= 0:
            raise UnbalancedGroup(f"amount on {p.account} must be a positive integer number of fen")
    debits = sum(p.amount_fen for p in postings if p.direction == "debit")
    credits = sum(p.amount_fen for p in postings if p.direction == "credit")
    if debits != credits:
        raise UnbalancedGroup(f"debits {debits} != credits {credits}")


def move(amount_fen: int, *, source: str, target: str) -> list[Posting]:
    """Money from `source` to `target`: debit the one, credit the other."""
    if source == target:
        raise UnbalancedGroup("source and target must differ")
    postings = [
        Posting(account=source, direction="debit", amount_fen=amount_fen),
        Posting(account=target, direction="credit", amount_fen=amount_fen),
    ]
    check_balanced(postings)
    return postings


def net_by_account(postings: Sequence[Posting]) -> dict[str, int]:
    """The change each account's balance sees from a group."""
    out: dict[str, int] = {}
    for p in postings:
        out[p.account] = out.get(p.account, 0) + signed(p)
    return out
