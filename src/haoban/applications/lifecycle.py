"""The application state machine (pure)."""

from __future__ import annotations

from typing import Literal

Status = Literal[
    "submitted", "approved", "rejected", "pending_review", "pending_materials", "paid", "completed", "cancelled"
]
FINAL: frozenset[Status] = frozenset({"rejected", "paid", "completed", "cancelled"})

TRANSITIONS: dict[Status, frozenset[Status]] = {
    "submitted": frozenset({"approved", "rejected", "pending_review", "pending_materials", "cancelled"}),
    "pending_materials": frozenset({"pending_review", "rejected", "cancelled"}),
    "pending_review": frozenset({"approved", "rejected", "cancelled"}),
    "approved": frozenset({"paid", "completed", "cancelled"}),
    "rejected": frozenset(),
    "paid": frozenset(),
    "completed": frozenset(),
    "cancelled": frozenset(),
}

CITIZEN_CANCELLABLE: frozenset[Status] = frozenset({"submitted", "pending_materials", "pending_review"})


def can_move(current: Status, to: Status) -> bool:
    return to in TRANSITIONS[current]


def after_decision(outcome: str) -> Status:
    """Where the rules' outcome puts a freshly submitted application."""
    if outcome == "approve":
        return "approved"
    if outcome == "reject":
        return "rejected"
    if outcome == "need_materials":
        return "pending_materials"
    return "pending_review"
