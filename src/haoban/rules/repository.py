"""SQL for rule sets and decisions."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from uuid import UUID

import asyncpg
import msgspec

from haoban.db.batch import Batch
from haoban.db.sql import COMMA, EMPTY, Cte, Template, join
from haoban.rules.schemas import Decision, Fact, RuleSetDoc, StoredDecision, StoredRuleSet


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
    row = await conn.fetchrow(
        "SELECT version, service_code, effective_from, effective_to, document, sha256, loaded_at FROM rule_sets"
        " WHERE version = $1",
        version,
    )
    return _rule_set(row) if row is not None else None


async def rule_set_in_effect(conn: asyncpg.Connection, service_code: str, on: date) -> StoredRuleSet | None:
    """The version whose dates cover `on`; the latest start wins if two overlap."""
    row = await conn.fetchrow(
        "SELECT version, service_code, effective_from, effective_to, document, sha256, loaded_at FROM rule_sets"
        " WHERE service_code = $1 AND effective_from <= $2 AND (effective_to IS NULL OR effective_to >= $2)"
        " ORDER BY effective_from DESC, version DESC LIMIT 1",
        service_code,
        on,
    )
    return _rule_set(row) if row is not None else None


_INSERT_DECISION = Template(
    "INSERT INTO decisions (id, application_id, service_code, rule_set_version, facts, decision, decided_at)"
    " SELECT {values}{source}"
)
_FROM = Template(" FROM {guard}")


def add_decision(
    b: Batch,
    prefix: str,
    *,
    decision_id: UUID,
    decision: Decision,
    facts: Mapping[str, Fact],
    service_code: str,
    application_id: UUID | None,
    at: datetime,
    guard: Cte | None,
) -> Cte:
    """CTE `<prefix>_decision` storing the decision with its facts; written only when `guard` has a row."""
    values = join(
        COMMA,
        (
            b.arg(decision_id, "uuid"),
            b.arg(application_id, "uuid"),
            b.arg(service_code, "text"),
            b.arg(decision.rule_set_version, "text"),
            b.arg(msgspec.to_builtins(dict(facts)), "jsonb"),
            b.arg(msgspec.to_builtins(decision), "jsonb"),
            b.arg(at, "timestamptz"),
        ),
    )
    source = b.sql(_FROM, guard=guard) if guard else EMPTY
    return b.cte(f"{prefix}_decision", b.sql(_INSERT_DECISION, values=values, source=source))


async def get_decisions(conn: asyncpg.Connection, decision_ids: list[UUID]) -> dict[UUID, StoredDecision]:
    """Several stored decisions in one query (a page of the citizen's list)."""
    rows = await conn.fetch(
        "SELECT id, application_id, service_code, rule_set_version, facts, decision, decided_at FROM decisions"
        " WHERE id = ANY($1::uuid[])",
        decision_ids,
    )
    return {r["id"]: _decision(r) for r in rows}


async def applicant_names(conn: asyncpg.Connection, decision_ids: list[UUID]) -> dict[UUID, str | None]:
    """The applicant's name as each decision's identity facts recorded it (a reviewer's queue page)."""
    rows = await conn.fetch(
        "SELECT id, facts #>> '{identity.name,value}' AS name FROM decisions WHERE id = ANY($1::uuid[])",
        decision_ids,
    )
    return {r["id"]: r["name"] for r in rows}


async def get_decision(conn: asyncpg.Connection, decision_id: UUID) -> StoredDecision | None:
    row = await conn.fetchrow(
        "SELECT id, application_id, service_code, rule_set_version, facts, decision, decided_at FROM decisions"
        " WHERE id = $1",
        decision_id,
    )
    return _decision(row) if row is not None else None
