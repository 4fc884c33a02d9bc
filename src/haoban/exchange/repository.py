"""SQL for consents and the data-access log."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Literal
from uuid import UUID

import asyncpg
import msgspec

from haoban.db.batch import Batch
from haoban.exchange.access_log import LogEntry, LogRow, content_hash
from haoban.exchange.consent_rules import ConsentGrant
from haoban.exchange.schemas import AccessLogEntry, Consent, Purpose, Requester
from haoban.kit.context import request_id_var

_CONSENT_COLUMNS = "id, purpose_kind, purpose_ref, items, terms_version, granted_at, expires_at, revoked_at"


def _consent(row: asyncpg.Record, now: datetime) -> Consent:
    status: Literal["active", "expired", "revoked"] = "revoked" if row["revoked_at"] else "active"
    if status == "active" and row["expires_at"] is not None and row["expires_at"] <= now:
        status = "expired"
    return Consent(
        id=row["id"],
        purpose=Purpose(kind=row["purpose_kind"], ref=row["purpose_ref"]),
        items=list(row["items"]),
        terms_version=row["terms_version"],
        granted_at=row["granted_at"],
        expires_at=row["expires_at"],
        revoked_at=row["revoked_at"],
        status=status,
    )


async def insert_consent(
    conn: asyncpg.Connection,
    *,
    consent_id: UUID,
    citizen_id: UUID,
    purpose: Purpose,
    items: list[str],
    terms_version: str,
    granted_at: datetime,
    expires_at: datetime | None,
) -> Consent:
    """The consent and its `consent.granted` audit row (actor: the citizen), in one statement."""
    b = Batch()
    granted = add_consent(
        b,
        consent_id=consent_id,
        citizen_id=citizen_id,
        purpose=purpose,
        items=items,
        terms_version=terms_version,
        granted_at=granted_at,
        expires_at=expires_at,
    )
    row = await b.fetchrow(conn, f"SELECT * FROM {granted}")  # noqa: S608
    if row is None:
        raise RuntimeError("INSERT ... RETURNING returned no row")
    return _consent(row, granted_at)


def add_consent(
    b: Batch,
    *,
    consent_id: UUID,
    citizen_id: UUID,
    purpose: Purpose,
    items: list[str],
    terms_version: str,
    granted_at: datetime,
    expires_at: datetime | None = None,
    unless: str | None = None,
) -> str:
    """CTEs granting a consent with its audit row; returns the CTE of the granted row.

    With `unless` (a CTE) nothing is granted when that CTE has a row or a live
    consent of the same purpose already holds every item.
    """
    cid, who, when = b.arg(citizen_id, "uuid"), b.arg(str(citizen_id), "text"), b.arg(granted_at, "timestamptz")
    kind, ref, wanted = b.arg(purpose.kind, "text"), b.arg(purpose.ref, "text"), b.arg(items, "text[]")
    skip = (
        f" WHERE NOT EXISTS (SELECT 1 FROM {unless}) AND NOT EXISTS (SELECT 1 FROM consents"  # noqa: S608
        f" WHERE citizen_id = {cid} AND purpose_kind = {kind} AND purpose_ref = {ref} AND revoked_at IS NULL"
        f" AND (expires_at IS NULL OR expires_at > {when}) AND items @> {wanted})"
        if unless
        else ""
    )
    b.cte(
        "granted",
        "INSERT INTO consents (id, citizen_id, purpose_kind, purpose_ref, items, terms_version, granted_at, expires_at)"
        f" SELECT {b.arg(consent_id, 'uuid')}, {cid}, {kind}, {ref}, {wanted}, {b.arg(terms_version, 'text')},"
        f" {when}, {b.arg(expires_at, 'timestamptz')}{skip} RETURNING {_CONSENT_COLUMNS}",
    )
    b.cte(
        "granted_audit",
        "INSERT INTO audit_events"  # noqa: S608
        " (occurred_at, actor_type, actor_id, action, subject_type, subject_id, request_id, details)"
        f" SELECT {when}, 'citizen', {who}, 'consent.granted', 'consent', g.id::text,"
        f" {b.arg(request_id_var.get(), 'text')},"
        " jsonb_build_object('purpose', jsonb_build_object('kind', g.purpose_kind, 'ref', g.purpose_ref),"
        " 'items', g.items) FROM granted g",
    )
    return "granted"


async def consents_of(conn: asyncpg.Connection, citizen_id: UUID, now: datetime) -> list[Consent]:
    rows = await conn.fetch(
        f"SELECT {_CONSENT_COLUMNS} FROM consents WHERE citizen_id = $1 ORDER BY granted_at DESC, id",  # noqa: S608
        citizen_id,
    )
    return [_consent(r, now) for r in rows]


async def live_grants(conn: asyncpg.Connection, citizen_id: UUID, purpose: Purpose) -> list[ConsentGrant]:
    rows = await conn.fetch(
        "SELECT purpose_kind, purpose_ref, items, expires_at, revoked_at FROM consents"
        " WHERE citizen_id = $1 AND purpose_kind = $2 AND purpose_ref = $3 AND revoked_at IS NULL",
        citizen_id,
        purpose.kind,
        purpose.ref,
    )
    return [
        ConsentGrant(
            purpose_kind=r["purpose_kind"],
            purpose_ref=r["purpose_ref"],
            items=tuple(r["items"]),
            expires_at=r["expires_at"],
            revoked_at=r["revoked_at"],
        )
        for r in rows
    ]


async def revoke_consent(conn: asyncpg.Connection, consent_id: UUID, citizen_id: UUID, at: datetime) -> bool | None:
    """True when revoked now, False when it already was, None when not this citizen's."""
    row = await conn.fetchrow(
        "SELECT revoked_at FROM consents WHERE id = $1 AND citizen_id = $2 FOR UPDATE", consent_id, citizen_id
    )
    if row is None:
        return None
    if row["revoked_at"] is not None:
        return False
    await conn.execute("UPDATE consents SET revoked_at = $2 WHERE id = $1", consent_id, at)
    return True


# --- access log -------------------------------------------------------------

_LOG_COLUMNS = (
    "seq, at, requester_type, requester_id, subject_id, source, items, purpose_kind, purpose_ref,"
    " outcome, request_hash, response_hash, request_id, prev_hash, row_hash, hash_version"
)

# One statement, so the head's row lock is held only while it runs. `head` locks
# the chain's head; `chain` walks the new rows in order from it, computing each
# digest-2 hash; the INSERT and the head UPDATE write the result. The rows come
# in as parallel arrays (items as JSON text, since arrays of arrays don't unnest).
_APPEND = """
WITH RECURSIVE
head AS (SELECT last_seq, last_hash FROM data_access_log_head WHERE id = 1 FOR UPDATE),
input AS (
    SELECT * FROM unnest(
        $1::timestamptz[], $2::text[], $3::text[], $4::uuid[], $5::text[], $6::text[], $7::text[],
        $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[]
    ) WITH ORDINALITY AS t(
        at, requester_type, requester_id, subject_id, source, items, purpose_kind, purpose_ref,
        outcome, request_hash, response_hash, request_id, content_hash, n
    )
),
chain (n, seq, prev_hash, row_hash) AS (
    SELECT 0::bigint, last_seq, NULL::text, last_hash FROM head
    UNION ALL
    SELECT i.n, c.seq + 1, c.row_hash,
        encode(sha256(convert_to(c.row_hash || E'\\n' || (c.seq + 1)::text || E'\\n' || i.content_hash, 'UTF8')), 'hex')
    FROM chain c JOIN input i ON i.n = c.n + 1
),
inserted AS (
    INSERT INTO data_access_log (
        seq, at, requester_type, requester_id, subject_id, source, items, purpose_kind, purpose_ref,
        outcome, request_hash, response_hash, request_id, prev_hash, row_hash, hash_version
    )
    SELECT c.seq, i.at, i.requester_type, i.requester_id, i.subject_id, i.source,
        ARRAY(SELECT x.item FROM jsonb_array_elements_text(i.items::jsonb) WITH ORDINALITY AS x(item, k) ORDER BY x.k),
        i.purpose_kind, i.purpose_ref, i.outcome, i.request_hash, i.response_hash, i.request_id,
        c.prev_hash, c.row_hash, 2
    FROM chain c JOIN input i ON i.n = c.n
)
UPDATE data_access_log_head h SET last_seq = last.seq, last_hash = last.row_hash
FROM (SELECT seq, row_hash FROM chain ORDER BY n DESC LIMIT 1) AS last
WHERE h.id = 1
RETURNING h.last_seq
"""


async def head(conn: asyncpg.Connection) -> tuple[int, str]:
    row = await conn.fetchrow("SELECT last_seq, last_hash FROM data_access_log_head WHERE id = 1")
    if row is None:  # the migration inserts it; its absence is tampering
        raise RuntimeError("data_access_log_head is missing")
    return row["last_seq"], row["last_hash"]


async def append(conn: asyncpg.Connection, entries: list[LogEntry]) -> int:
    """Append `entries` as digest-2 rows in one statement (no transaction needed); return the last seq."""
    last_seq = await conn.fetchval(
        _APPEND,
        [e.at for e in entries],
        [e.requester_type for e in entries],
        [e.requester_id for e in entries],
        [e.subject_id for e in entries],
        [e.source for e in entries],
        [msgspec.json.encode(list(e.items)).decode() for e in entries],
        [e.purpose_kind for e in entries],
        [e.purpose_ref for e in entries],
        [e.outcome for e in entries],
        [e.request_hash for e in entries],
        [e.response_hash for e in entries],
        [e.request_id for e in entries],
        [content_hash(e) for e in entries],
    )
    if last_seq is None:  # the migration inserts the head; its absence is tampering
        raise RuntimeError("data_access_log_head is missing")
    return int(last_seq)


async def entries_for(
    conn: asyncpg.Connection, subject_id: UUID, *, before: int | None, limit: int
) -> list[AccessLogEntry]:
    rows = await conn.fetch(
        "SELECT seq, at, requester_type, requester_id, purpose_kind, purpose_ref, source, items, outcome"
        " FROM data_access_log WHERE subject_id = $1 AND ($2::bigint IS NULL OR seq < $2)"
        " ORDER BY seq DESC LIMIT $3",
        subject_id,
        before,
        limit,
    )
    return [
        AccessLogEntry(
            seq=r["seq"],
            at=r["at"],
            requester=Requester(type=r["requester_type"], id=r["requester_id"]),
            purpose=Purpose(kind=r["purpose_kind"], ref=r["purpose_ref"]),
            source=r["source"],
            items=list(r["items"]),
            outcome=r["outcome"],
        )
        for r in rows
    ]


async def all_rows(conn: asyncpg.Connection, batch: int = 1000) -> AsyncIterator[LogRow]:
    """Every row in `seq` order, read in batches (call inside a transaction)."""
    async for r in conn.cursor(f"SELECT {_LOG_COLUMNS} FROM data_access_log ORDER BY seq", prefetch=batch):  # noqa: S608
        yield LogRow(**{**dict(r), "items": tuple(r["items"])})
