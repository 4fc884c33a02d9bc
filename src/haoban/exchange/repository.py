"""SQL for consents and the data-access log."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Literal
from uuid import UUID

import asyncpg

from haoban.exchange.access_log import LogRow
from haoban.exchange.consent_rules import ConsentGrant
from haoban.exchange.schemas import AccessLogEntry, Consent, Purpose, Requester

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
    row = await conn.fetchrow(
        "INSERT INTO consents (id, citizen_id, purpose_kind, purpose_ref, items, terms_version, granted_at, expires_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        " RETURNING id, purpose_kind, purpose_ref, items, terms_version, granted_at, expires_at, revoked_at",
        consent_id,
        citizen_id,
        purpose.kind,
        purpose.ref,
        items,
        terms_version,
        granted_at,
        expires_at,
    )
    if row is None:
        raise RuntimeError("INSERT ... RETURNING returned no row")
    return _consent(row, granted_at)


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
    " outcome, request_hash, response_hash, request_id, prev_hash, row_hash"
)


async def lock_head(conn: asyncpg.Connection) -> tuple[int, str]:
    """The chain's head, row-locked until the transaction ends: writers queue here."""
    row = await conn.fetchrow("SELECT last_seq, last_hash FROM data_access_log_head WHERE id = 1 FOR UPDATE")
    return _head(row)


async def head(conn: asyncpg.Connection) -> tuple[int, str]:
    row = await conn.fetchrow("SELECT last_seq, last_hash FROM data_access_log_head WHERE id = 1")
    return _head(row)


def _head(row: asyncpg.Record | None) -> tuple[int, str]:
    if row is None:  # the migration inserts it; its absence is tampering
        raise RuntimeError("data_access_log_head is missing")
    return row["last_seq"], row["last_hash"]


async def append(conn: asyncpg.Connection, rows: list[LogRow]) -> None:
    await conn.executemany(
        f"INSERT INTO data_access_log ({_LOG_COLUMNS})"  # noqa: S608 (constant columns)
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        [
            (
                r.seq,
                r.at,
                r.requester_type,
                r.requester_id,
                r.subject_id,
                r.source,
                list(r.items),
                r.purpose_kind,
                r.purpose_ref,
                r.outcome,
                r.request_hash,
                r.response_hash,
                r.request_id,
                r.prev_hash,
                r.row_hash,
            )
            for r in rows
        ],
    )
    last = rows[-1]
    await conn.execute(
        "UPDATE data_access_log_head SET last_seq = $1, last_hash = $2 WHERE id = 1", last.seq, last.row_hash
    )


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
