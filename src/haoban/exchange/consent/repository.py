"""SQL for consents and the data-access log."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Literal
from uuid import UUID

import asyncpg
import msgspec

from haoban.audit import service as audit
from haoban.db.batch import Batch
from haoban.db.sql import EMPTY, Cte, Param, Template
from haoban.exchange.consent.access_log import LogEntry, LogRow, content_hash
from haoban.exchange.consent.rules import ConsentGrant
from haoban.exchange.consent.schemas import AccessLogEntry, Consent, Purpose, Requester


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


_GRANTED = Template(
    "SELECT {granted.id}, {granted.purpose_kind}, {granted.purpose_ref}, {granted.items}, {granted.terms_version},"
    " {granted.granted_at}, {granted.expires_at}, {granted.revoked_at} FROM {granted}"
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
        "consent",
        consent_id=consent_id,
        citizen_id=citizen_id,
        purpose=purpose,
        items=items,
        terms_version=terms_version,
        granted_at=granted_at,
        expires_at=expires_at,
    )
    row = await b.fetchrow(conn, b.sql(_GRANTED, granted=granted))
    if row is None:
        raise RuntimeError("INSERT ... RETURNING returned no row")
    return _consent(row, granted_at)


_CONSENT_RETURNING = (
    "id",
    "purpose_kind",
    "purpose_ref",
    "items",
    "terms_version",
    "granted_at",
    "expires_at",
    "revoked_at",
)
_GRANT = Template(
    "INSERT INTO consents (id, citizen_id, purpose_kind, purpose_ref, items, terms_version, granted_at, expires_at)"
    " SELECT {consent_id}, {citizen_id}, {kind}, {ref}, {items}, {terms_version}, {at}, {expires_at}{skip}"
    " RETURNING id, purpose_kind, purpose_ref, items, terms_version, granted_at, expires_at, revoked_at"
)
_UNLESS = Template(
    " WHERE NOT EXISTS (SELECT 1 FROM {unless}) AND NOT EXISTS (SELECT 1 FROM consents"
    " WHERE citizen_id = {citizen_id} AND purpose_kind = {kind} AND purpose_ref = {ref} AND revoked_at IS NULL"
    " AND (expires_at IS NULL OR expires_at > {at}) AND items @> {items})"
)
_GRANT_AUDIT_ROWS = Template(
    "SELECT 'citizen' AS actor_type, {actor_id} AS actor_id, 'consent.granted' AS action, 'consent' AS subject_type,"
    " {granted.id}::text AS subject_id, jsonb_build_object('purpose', jsonb_build_object('kind',"
    " {granted.purpose_kind}, 'ref', {granted.purpose_ref}), 'items', {granted.items}) AS details, 1 AS n"
    " FROM {granted}"
)


def add_consent(
    b: Batch,
    prefix: str,
    *,
    consent_id: UUID,
    citizen_id: UUID,
    purpose: Purpose,
    items: list[str],
    terms_version: str,
    granted_at: datetime,
    expires_at: datetime | None = None,
    unless: Cte | None = None,
) -> Cte:
    """CTEs granting a consent with its audit row; returns the CTE of the granted row (`<prefix>_granted`).

    With `unless` (a CTE) nothing is granted when that CTE has a row or a live
    consent of the same purpose already holds every item.
    """
    cid, who, when = b.arg(citizen_id, "uuid"), b.arg(str(citizen_id), "text"), b.arg(granted_at, "timestamptz")
    kind, ref, wanted = b.arg(purpose.kind, "text"), b.arg(purpose.ref, "text"), b.arg(items, "text[]")
    skip = b.sql(_UNLESS, unless=unless, citizen_id=cid, kind=kind, ref=ref, at=when, items=wanted) if unless else EMPTY
    sql = b.sql(
        _GRANT,
        consent_id=b.arg(consent_id, "uuid"),
        citizen_id=cid,
        kind=kind,
        ref=ref,
        items=wanted,
        terms_version=b.arg(terms_version, "text"),
        at=when,
        expires_at=b.arg(expires_at, "timestamptz"),
        skip=skip,
    )
    granted = b.cte(f"{prefix}_granted", sql, _CONSENT_RETURNING)
    rows = b.cte(f"{prefix}_granted_rows", b.sql(_GRANT_AUDIT_ROWS, actor_id=who, granted=granted), audit.ROW_COLUMNS)
    audit.add_rows(b, f"{prefix}_granted", rows, at=when)
    return granted


_GRANTS = Template(
    "SELECT coalesce((SELECT jsonb_agg(jsonb_build_object('purpose_kind', purpose_kind, 'purpose_ref', purpose_ref,"
    " 'items', items, 'expires_at', expires_at, 'revoked_at', revoked_at)) FROM consents"
    " WHERE citizen_id = {citizen_id} AND purpose_kind = {kind} AND purpose_ref = {ref} AND revoked_at IS NULL),"
    " '[]') || coalesce((SELECT jsonb_agg(jsonb_build_object('purpose_kind', {granted.purpose_kind}, 'purpose_ref',"
    " {granted.purpose_ref}, 'items', {granted.items}, 'expires_at', {granted.expires_at}, 'revoked_at',"
    " {granted.revoked_at})) FROM {granted}), '[]') AS grants"
)


def add_grants(b: Batch, prefix: str, citizen_id: UUID | Param, purpose: Purpose, *, granted: Cte) -> Cte:
    """CTE `<prefix>_grants`: one row, column grants, a JSON list of the purpose's live consents as
    `ConsentGrant`s, with the one `granted` (a CTE of this statement) gave."""
    cid = citizen_id if isinstance(citizen_id, Param) else b.arg(citizen_id, "uuid")
    sql = b.sql(
        _GRANTS, citizen_id=cid, kind=b.arg(purpose.kind, "text"), ref=b.arg(purpose.ref, "text"), granted=granted
    )
    return b.cte(f"{prefix}_grants", sql, ("grants",))


async def consents_of(conn: asyncpg.Connection, citizen_id: UUID, now: datetime) -> list[Consent]:
    rows = await conn.fetch(
        "SELECT id, purpose_kind, purpose_ref, items, terms_version, granted_at, expires_at, revoked_at"
        " FROM consents WHERE citizen_id = $1 ORDER BY granted_at DESC, id",
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

_ALL_ROWS = (
    "SELECT seq, at, requester_type, requester_id, subject_id, source, items, purpose_kind, purpose_ref,"
    " outcome, request_hash, response_hash, request_id, prev_hash, row_hash, hash_version"
    " FROM data_access_log ORDER BY seq"
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
    async for r in conn.cursor(_ALL_ROWS, prefetch=batch):
        yield LogRow(**{**dict(r), "items": tuple(r["items"])})
