"""SQL for rule sets and decisions."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from haoban.db.batch import Batch
from haoban.rules.schemas import Decision, Fact, RuleSetDoc, StoredDecision, StoredRuleSet

_RULE_SET_COLUMNS = "version, service_code, effective_from, effective_to, document, sha256, loaded_at"
_DECISION_COLUMNS = "id, application_id, service_code, rule_set_version, facts, decision, decided_at"


def _rule_set(row: asyncpg.Record) -> StoredRuleSet:
    return StoredRuleSet(
        version=row["version"],
        service_code=row["service_code"],
        effective_from=row["effective_from"],
        effective_to=row["effective_to"],
        document=msgspec.convert(row["document"], RuleSetDoc),
        sha256=row["sha256"],
        loaded_at=row["loaded_at"],
    )


def _decision(row: asyncpg.Record) -> StoredDecision:
    return StoredDecision(
        id=row["id"],
        application_id=row["application_id"],
        service_code=row["service_code"],
        rule_set_version=row["rule_set_version"],
        facts=msgspec.convert(row["facts"], dict[str, Fact]),
        decision=msgspec.convert(row["decision"], Decision),
        decided_at=row["decided_at"],
    )


async def rule_set_sha(conn: asyncpg.Connection, version: str) -> str | None:
    sha: str | None = await conn.fetchval("SELECT sha256 FROM rule_sets WHERE version = $1", version)
    return sha


async def insert_rule_set(conn: asyncpg.Connection, doc: RuleSetDoc, *, sha256: str, at: datetime) -> bool:
    """False when the version is already there (a concurrent loader won)."""
    inserted = await conn.fetchval(
        "INSERT INTO rule_sets (version, service_code, effective_from, effective_to, document, sha256, loaded_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (version) DO NOTHING RETURNING true",
        doc.version,
        doc.service_code,
        doc.effective_from,
        doc.effective_to,
        msgspec.to_builtins(doc),
        sha256,
        at,
    )
    return bool(inserted)


async def rule_set_by_version(conn: asyncpg.Connection, version: str) -> StoredRuleSet | None:
    row = await conn.fetchrow(f"SELECT {_RULE_SET_COLUMNS} FROM rule_sets WHERE version = $1", version)  # noqa: S608
    return _rule_set(row) if row is not None else None


async def rule_set_in_effect(conn: asyncpg.Connection, service_code: str, on: date) -> StoredRuleSet | None:
    """The version whose dates cover `on`; the latest start wins if two overlap."""
    row = await conn.fetchrow(
        f"SELECT {_RULE_SET_COLUMNS} FROM rule_sets"  # noqa: S608
        " WHERE service_code = $1 AND effective_from <= $2 AND (effective_to IS NULL OR effective_to >= $2)"
        " ORDER BY effective_from DESC, version DESC LIMIT 1",
        service_code,
        on,
    )
    return _rule_set(row) if row is not None else None


async def store_decision(
    conn: asyncpg.Connection,
    *,
    decision: Decision,
    facts: Mapping[str, Fact],
    service_code: str,
    application_id: UUID | None,
    at: datetime,
) -> UUID:
    decision_id = uuid.uuid4()
    plain_facts: dict[str, Any] = msgspec.to_builtins(dict(facts))
    await conn.execute(
        "INSERT INTO decisions (id, application_id, service_code, rule_set_version, facts, decision, decided_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)",
        decision_id,
        application_id,
        service_code,
        decision.rule_set_version,
        plain_facts,
        msgspec.to_builtins(decision),
        at,
    )
    return decision_id


def add_decision(
    b: Batch,
    *,
    decision_id: UUID,
    decision: Decision,
    facts: Mapping[str, Fact],
    service_code: str,
    application_id: UUID,
    at: datetime,
    guard: str | None,
) -> None:
    """`store_decision` as a CTE of a larger statement; written only when `guard` (a CTE) has a row."""
    values = ", ".join(
        (
            b.arg(decision_id, "uuid"),
            b.arg(application_id, "uuid"),
            b.arg(service_code, "text"),
            b.arg(decision.rule_set_version, "text"),
            b.arg(msgspec.to_builtins(dict(facts)), "jsonb"),
            b.arg(msgspec.to_builtins(decision), "jsonb"),
            b.arg(at, "timestamptz"),
        )
    )
    source = f" FROM {guard}" if guard else ""
    b.cte(
        "decision",
        "INSERT INTO decisions (id, application_id, service_code, rule_set_version, facts, decision, decided_at)"
        f" SELECT {values}{source}",
    )


async def get_decision(conn: asyncpg.Connection, decision_id: UUID) -> StoredDecision | None:
    row = await conn.fetchrow(f"SELECT {_DECISION_COLUMNS} FROM decisions WHERE id = $1", decision_id)  # noqa: S608
    return _decision(row) if row is not None else None
