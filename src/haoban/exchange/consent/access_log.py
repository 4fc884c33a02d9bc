"""The hash chain of the data-access log (pure).

Each row's hash covers the previous row's hash and every field of the row, so
editing a row breaks its own hash, and deleting one breaks the sequence and the
next row's `prev_hash`. `verify` names the first row where the chain breaks.

Two digest versions, checked per row by its `hash_version`:
1. sha256(prev_hash + "\\n" + JSON [seq, own fields...]), all in Python.
2. sha256(prev_hash + "\\n" + seq + "\\n" + content_hash), where `content_hash`
   is sha256 of JSON [own fields...] from Python and the chain part is computed
   by the append statement in SQL (`repository.append`), so appending is one
   statement.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime
from uuid import UUID

import msgspec

GENESIS = "0" * 64
CURRENT_VERSION = 2


class LogEntry(msgspec.Struct, frozen=True, kw_only=True):
    """A row's own fields: what `content_hash` covers."""

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


class LogRow(LogEntry, frozen=True, kw_only=True):
    seq: int
    prev_hash: str
    row_hash: str
    hash_version: int


class VerifyResult(msgspec.Struct, frozen=True, kw_only=True):
    ok: bool
    checked: int
    broken_seq: int | None = None
    reason: str | None = None


def _fields(entry: LogEntry) -> list[object]:
    return [
        entry.at.astimezone(UTC).isoformat(timespec="microseconds"),
        entry.requester_type,
        entry.requester_id,
        str(entry.subject_id),
        entry.source,
        list(entry.items),
        entry.purpose_kind,
        entry.purpose_ref,
        entry.outcome,
        entry.request_hash,
        entry.response_hash,
        entry.request_id,
    ]


def content_hash(entry: LogEntry) -> str:
    """Version 2: the hash of a row's own fields (no seq, no chain)."""
    return hashlib.sha256(msgspec.json.encode(_fields(entry))).hexdigest()


def chain_hash(prev_hash: str, seq: int, content: str) -> str:
    """Version 2: the same expression the append statement computes in SQL."""
    return hashlib.sha256(f"{prev_hash}\n{seq}\n{content}".encode()).hexdigest()


def row_digest(row: LogRow) -> str | None:
    """The hash `row` should carry, by its own version; None for an unknown version."""
    if row.hash_version == 1:
        body = msgspec.json.encode([row.seq, *_fields(row)])
        return hashlib.sha256(row.prev_hash.encode() + b"\n" + body).hexdigest()
    if row.hash_version == 2:
        return chain_hash(row.prev_hash, row.seq, content_hash(row))
    return None


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
        expected = row_digest(row)
        if row.prev_hash != self.prev:
            reason = "previous hash does not match"
        elif expected is None:
            reason = f"unknown hash version {row.hash_version}"
        elif expected != row.row_hash:
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
