"""The hash chain of the data-access log (pure).

Each row's hash covers the previous row's hash and every field of the row, so
editing a row breaks its own hash, and deleting one breaks the sequence and the
next row's `prev_hash`. `verify` names the first row where the chain breaks.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime
from uuid import UUID

import msgspec

GENESIS = "0" * 64


class LogRow(msgspec.Struct, frozen=True, kw_only=True):
    seq: int
    at: datetime
    requester_type: str
    requester_id: str
    subject_id: UUID
    source: str
    items: tuple[str, ...]
    purpose_kind: str
    purpose_ref: str
    outcome: str
    request_hash: str
    response_hash: str | None
    request_id: str | None
    prev_hash: str
    row_hash: str


class VerifyResult(msgspec.Struct, frozen=True, kw_only=True):
    ok: bool
    checked: int
    broken_seq: int | None = None
    reason: str | None = None


def digest(
    *,
    prev_hash: str,
    seq: int,
    at: datetime,
    requester_type: str,
    requester_id: str,
    subject_id: UUID,
    source: str,
    items: tuple[str, ...],
    purpose_kind: str,
    purpose_ref: str,
    outcome: str,
    request_hash: str,
    response_hash: str | None,
    request_id: str | None,
) -> str:
    body = msgspec.json.encode(
        [
            seq,
            at.astimezone(UTC).isoformat(timespec="microseconds"),
            requester_type,
            requester_id,
            str(subject_id),
            source,
            list(items),
            purpose_kind,
            purpose_ref,
            outcome,
            request_hash,
            response_hash,
            request_id,
        ]
    )
    return hashlib.sha256(prev_hash.encode() + b"\n" + body).hexdigest()


def row_digest(row: LogRow) -> str:
    return digest(
        prev_hash=row.prev_hash,
        seq=row.seq,
        at=row.at,
        requester_type=row.requester_type,
        requester_id=row.requester_id,
        subject_id=row.subject_id,
        source=row.source,
        items=row.items,
        purpose_kind=row.purpose_kind,
        purpose_ref=row.purpose_ref,
        outcome=row.outcome,
        request_hash=row.request_hash,
        response_hash=row.response_hash,
        request_id=row.request_id,
    )


class Verifier:
    """Checks rows one at a time, in `seq` order, so the whole log never sits in memory."""

    def __init__(self) -> None:
        self.expected_seq, self.prev, self.checked = 1, GENESIS, 0
        self.failure: VerifyResult | None = None

    def feed(self, row: LogRow) -> bool:
        """False once the chain is broken (see `failure`)."""
        if self.failure is not None:
            return False
        reason = None
        if row.seq != self.expected_seq:
            self.failure = VerifyResult(
                ok=False, checked=self.checked, broken_seq=self.expected_seq, reason="missing row"
            )
            return False
        if row.prev_hash != self.prev:
            reason = "previous hash does not match"
        elif row_digest(row) != row.row_hash:
            reason = "row content was changed"
        if reason is not None:
            self.failure = VerifyResult(ok=False, checked=self.checked, broken_seq=row.seq, reason=reason)
            return False
        self.prev, self.expected_seq, self.checked = row.row_hash, self.expected_seq + 1, self.checked + 1
        return True

    def finish(self, head: tuple[int, str] | None) -> VerifyResult:
        if self.failure is not None:
            return self.failure
        if head is not None and head != (self.expected_seq - 1, self.prev):
            return VerifyResult(
                ok=False, checked=self.checked, broken_seq=self.expected_seq, reason="rows missing at the end"
            )
        return VerifyResult(ok=True, checked=self.checked)


def verify(rows: Iterable[LogRow], *, head: tuple[int, str] | None = None) -> VerifyResult:
    """Walk rows in `seq` order from the start; `head` is (last_seq, last_hash) when known."""
    verifier = Verifier()
    for row in rows:
        if not verifier.feed(row):
            break
    return verifier.finish(head)
