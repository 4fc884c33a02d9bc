"""A retried request whose fund-centre debit was booked before our own commit failed (the crash gap).

The instruction id is planned with the Idempotency-Key, so the retry finds the
earlier debit again in the fund centre's withdrawal records (reference
`haoban:<instruction id>`). The decision is then made on the facts as they were
before that debit (its amount back on the balance, its record left out), and
posting the same instruction gets the fund centre's first answer: one debit.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

import msgspec

from haoban.exchange.consent.schemas import SourceData
from haoban.exchange.consent.service import Pulled
from haoban.exchange.sources.records import HousingFundRecord


def own_reference(instruction_id: UUID) -> str:
    return f"haoban:{instruction_id}"


def without_own_debit(pulled: Pulled, instruction_id: UUID) -> tuple[Pulled, int | None]:
    """The pull as before this instruction's debit, and the debited amount (None: the fund centre holds none)."""
    ref = own_reference(instruction_id)
    for answer in pulled.answers:
        record = answer.fetched.record if answer.source == "housing_fund" and answer.fetched else None
        if isinstance(record, HousingFundRecord):
            own = next((w for w in record.withdrawals if w.reference == ref), None)
            if own is None:
                return pulled, None
            sources = [_undo(s, own.amount_fen, own.withdrawn_on.isoformat(), own.kind) for s in pulled.data.sources]
            return msgspec.structs.replace(pulled, data=msgspec.structs.replace(pulled.data, sources=sources)), (
                own.amount_fen
            )
    return pulled, None


def _undo(source: SourceData, amount_fen: int, on: str, kind: str) -> SourceData:
    if source.source != "housing_fund" or source.status != "ok":
        return source
    items = dict(source.items)
    balance = items.get("balance_fen")
    if balance is not None and isinstance(balance.value, int):
        items["balance_fen"] = msgspec.structs.replace(balance, value=balance.value + amount_fen)
    listed = items.get("withdrawals")
    if listed is not None and isinstance(listed.value, list):
        kept, dropped = [], False
        for w in listed.value:
            if not dropped and _is(w, amount_fen, on, kind):
                dropped = True
                continue
            kept.append(w)
        items["withdrawals"] = msgspec.structs.replace(listed, value=kept)
    return msgspec.structs.replace(source, items=items)


def _is(w: object, amount_fen: int, on: str, kind: str) -> bool:
    if not isinstance(w, dict):
        return False
    withdrawn: object = w.get("withdrawn_on")
    day = withdrawn.isoformat() if isinstance(withdrawn, date) else str(withdrawn)
    return bool(w.get("amount_fen") == amount_fen and day == on and w.get("kind") == kind)


__all__ = ["own_reference", "without_own_debit"]
