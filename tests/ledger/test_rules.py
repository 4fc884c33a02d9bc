"""The pure balancing rules, without a database."""

from __future__ import annotations

from uuid import UUID

import pytest

from haoban.ledger.rules import (
    CLEARING,
    CONTRIBUTIONS,
    Posting,
    UnbalancedGroup,
    check_balanced,
    member_account,
    move,
    net_by_account,
)

MEMBER = member_account(UUID(int=1))


def test_move_debits_the_source_and_credits_the_target() -> None:
    postings = move(500, source=MEMBER, target=CLEARING)
    assert net_by_account(postings) == {MEMBER: -500, CLEARING: 500}


def test_a_balanced_group_of_three_postings_passes() -> None:
    check_balanced(
        [
            Posting(account=CONTRIBUTIONS, direction="debit", amount_fen=300),
            Posting(account=MEMBER, direction="credit", amount_fen=100),
            Posting(account=CLEARING, direction="credit", amount_fen=200),
        ]
    )


@pytest.mark.parametrize(
    "postings",
    [
        [Posting(account=MEMBER, direction="debit", amount_fen=1)],
        [
            Posting(account=MEMBER, direction="debit", amount_fen=100),
            Posting(account=CLEARING, direction="credit", amount_fen=99),
        ],
        [
            Posting(account=MEMBER, direction="debit", amount_fen=0),
            Posting(account=CLEARING, direction="credit", amount_fen=0),
        ],
        [
            Posting(account=MEMBER, direction="debit", amount_fen=-5),
            Posting(account=CLEARING, direction="credit", amount_fen=-5),
        ],
    ],
    ids=["single", "unbalanced", "zero", "negative"],
)
def test_malformed_groups_are_refused(postings: list[Posting]) -> None:
    with pytest.raises(UnbalancedGroup):
        check_balanced(postings)


def test_moving_money_to_the_same_account_is_refused() -> None:
    with pytest.raises(UnbalancedGroup):
        move(1, source=CLEARING, target=CLEARING)


def test_a_float_amount_is_refused() -> None:
    with pytest.raises(UnbalancedGroup):
        check_balanced(
            [
                Posting(account=MEMBER, direction="debit", amount_fen=1.5),  # type: ignore[arg-type]
                Posting(account=CLEARING, direction="credit", amount_fen=1.5),  # type: ignore[arg-type]
            ]
        )


def test_member_account_code_names_the_citizen() -> None:
    assert member_account(UUID(int=1)) == "hpf:member:00000000-0000-0000-0000-000000000001"
