"""The application state machine (pure)."""

from __future__ import annotations

import pytest

from haoban.applications import lifecycle


@pytest.mark.parametrize(
    ("current", "to"),
    [
        ("submitted", "approved"),
        ("submitted", "pending_review"),
        ("pending_materials", "pending_review"),
        ("pending_review", "rejected"),
        ("approved", "paid"),
        ("approved", "cancelled"),
    ],
)
def test_allowed_moves(current: lifecycle.Status, to: lifecycle.Status) -> None:
    assert lifecycle.can_move(current, to)


@pytest.mark.parametrize(
    ("current", "to"),
    [
        ("submitted", "paid"),
        ("pending_review", "paid"),
        ("rejected", "approved"),
        ("paid", "cancelled"),
        ("cancelled", "submitted"),
        ("approved", "rejected"),
    ],
)
def test_forbidden_moves(current: lifecycle.Status, to: lifecycle.Status) -> None:
    assert not lifecycle.can_move(current, to)


def test_final_statuses_go_nowhere() -> None:
    for status in lifecycle.FINAL:
        assert not lifecycle.TRANSITIONS[status]


@pytest.mark.parametrize(
    ("outcome", "status"),
    [
        ("approve", "approved"),
        ("reject", "rejected"),
        ("review", "pending_review"),
        ("need_materials", "pending_materials"),
    ],
)
def test_decision_outcome_sets_the_status(outcome: str, status: str) -> None:
    assert lifecycle.after_decision(outcome) == status
