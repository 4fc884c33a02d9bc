"""SQL for uploads, signed letters and tolerant-acceptance notices."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

import asyncpg
import msgspec

from haoban.materials.schemas import Material, MissingItem, Notice, Signature

_MATERIALS_OF = (
    "SELECT id AS material_id, material_code AS code, content_type, size_bytes, sha256, trust_level, uploaded_at"
    " FROM application_materials WHERE application_id = $1 ORDER BY uploaded_at, id"
)
_NOTICE_OF = (
    "SELECT id, application_id, missing, deadline, deadline_at, text_zh, text_en, issued_at, fulfilled_at, expired_at"
    " FROM tolerant_notices WHERE application_id = $1"
)


async def insert_material(
    conn: asyncpg.Connection,
    *,
    material_id: UUID,
    application_id: UUID,
    citizen_id: UUID,
    code: str,
    content_type: str,
    content: bytes,
    sha256: str,
    trust_level: str,
    at: datetime,
) -> Material:
    record = await conn.fetchrow(
        "INSERT INTO application_materials (id, application_id, citizen_id, material_code, content_type,"
        " size_bytes, sha256, content, trust_level, uploaded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        " RETURNING id AS material_id, material_code AS code, content_type, size_bytes, sha256, trust_level,"
        " uploaded_at",
        material_id,
        application_id,
        citizen_id,
        code,
        content_type,
        len(content),
        sha256,
        content,
        trust_level,
        at,
    )
    if record is None:  # pragma: no cover (RETURNING always gives the row)
        raise RuntimeError("insert returned no row")
    return msgspec.convert(dict(record), Material)


async def materials_of(conn: asyncpg.Connection, application_id: UUID) -> list[Material]:
    records = await conn.fetch(
        _MATERIALS_OF,
        application_id,
    )
    return [msgspec.convert(dict(r), Material) for r in records]


async def material_content(conn: asyncpg.Connection, material_id: UUID) -> bytes | None:
    value: bytes | None = await conn.fetchval("SELECT content FROM application_materials WHERE id = $1", material_id)
    return value


async def insert_signature(
    conn: asyncpg.Connection,
    *,
    signature_id: UUID,
    application_id: UUID,
    citizen_id: UUID,
    kind: str,
    version: str,
    text_sha256: str,
    consent_id: UUID | None,
    at: datetime,
) -> bool:
    """False when this kind of letter was already signed for the application (the first signature stands)."""
    status = await conn.execute(
        "INSERT INTO application_commitments (id, application_id, citizen_id, kind, version, text_sha256,"
        " consent_id, signed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (application_id, kind) DO NOTHING",
        signature_id,
        application_id,
        citizen_id,
        kind,
        version,
        text_sha256,
        consent_id,
        at,
    )
    return bool(status.endswith(" 1"))


async def signatures_of(conn: asyncpg.Connection, application_id: UUID) -> list[Signature]:
    records = await conn.fetch(
        "SELECT kind, version, text_sha256, consent_id, signed_at FROM application_commitments"
        " WHERE application_id = $1 ORDER BY signed_at, kind",
        application_id,
    )
    return [msgspec.convert(dict(r), Signature) for r in records]


def _notice(record: asyncpg.Record) -> Notice:
    status: Literal["open", "fulfilled", "expired"]
    if record["fulfilled_at"] is not None:
        status = "fulfilled"
    elif record["expired_at"] is not None:
        status = "expired"
    else:
        status = "open"
    return Notice(
        notice_id=record["id"],
        application_id=record["application_id"],
        missing=msgspec.convert(record["missing"], list[MissingItem]),
        deadline=record["deadline"],
        deadline_at=record["deadline_at"],
        text_zh=record["text_zh"],
        text_en=record["text_en"],
        issued_at=record["issued_at"],
        status=status,
    )


async def insert_notice(
    conn: asyncpg.Connection,
    *,
    notice_id: UUID,
    application_id: UUID,
    missing: list[MissingItem],
    deadline: date,
    deadline_at: datetime,
    texts: tuple[str, str],
    at: datetime,
) -> Notice:
    payload: list[dict[str, Any]] = msgspec.to_builtins(missing)
    record = await conn.fetchrow(
        "INSERT INTO tolerant_notices (id, application_id, missing, deadline, deadline_at, text_zh, text_en,"
        " issued_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id, application_id, missing, deadline,"
        " deadline_at, text_zh, text_en, issued_at, fulfilled_at, expired_at",
        notice_id,
        application_id,
        payload,
        deadline,
        deadline_at,
        texts[0],
        texts[1],
        at,
    )
    if record is None:  # pragma: no cover (RETURNING always gives the row)
        raise RuntimeError("insert returned no row")
    return _notice(record)


async def notice_of(conn: asyncpg.Connection, application_id: UUID, *, for_update: bool = False) -> Notice | None:
    lock = " FOR UPDATE" if for_update else ""
    record = await conn.fetchrow(
        _NOTICE_OF + lock,
        application_id,
    )
    return None if record is None else _notice(record)


async def close_notice(conn: asyncpg.Connection, notice_id: UUID, *, fulfilled: bool, at: datetime) -> None:
    await conn.execute(
        "UPDATE tolerant_notices SET fulfilled_at = CASE WHEN $3::boolean THEN $2::timestamptz END,"
        " expired_at = CASE WHEN $3::boolean THEN NULL ELSE $2::timestamptz END"
        " WHERE id = $1 AND fulfilled_at IS NULL AND expired_at IS NULL",
        notice_id,
        at,
        fulfilled,
    )


async def overdue(conn: asyncpg.Connection, now: datetime, limit: int) -> list[UUID]:
    """Applications whose open notice is past its deadline (not locked: callers lock the application first)."""
    records = await conn.fetch(
        "SELECT application_id FROM tolerant_notices"
        " WHERE fulfilled_at IS NULL AND expired_at IS NULL AND deadline_at <= $1"
        " ORDER BY deadline_at LIMIT $2",
        now,
        limit,
    )
    return [r["application_id"] for r in records]


async def count_materials(conn: asyncpg.Connection, application_id: UUID) -> int:
    value: int = await conn.fetchval(
        "SELECT count(*) FROM application_materials WHERE application_id = $1", application_id
    )
    return value
