"""Recompute a stored decision from its stored facts and rule-set version."""

from __future__ import annotations

from uuid import UUID

import asyncpg
import msgspec

from haoban.rules import repository as repo
from haoban.rules.engine import document_sha256, evaluate
from haoban.rules.facts import today_of
from haoban.rules.registry import compiled
from haoban.rules.schemas import Decision


class Replay(msgspec.Struct, frozen=True, kw_only=True):
    decision_id: UUID
    rule_set_version: str
    document_unchanged: bool  # the stored document still hashes to the sha256 recorded when it was loaded
    equal: bool
    stored: Decision
    recomputed: Decision


class ReplayImpossible(LookupError):
    """No such decision, or its rule-set version is gone."""


async def replay(conn: asyncpg.Connection, decision_id: UUID) -> Replay:
    stored = await repo.get_decision(conn, decision_id)
    if stored is None:
        raise ReplayImpossible(f"no decision {decision_id}")
    rule_set = await repo.rule_set_by_version(conn, stored.rule_set_version)
    if rule_set is None:
        raise ReplayImpossible(f"rule set {stored.rule_set_version} is not in the database")
    today = today_of(stored.facts) or stored.decided_at.date()
    recomputed = evaluate(compiled(rule_set.document), stored.facts, today=today)
    return Replay(
        decision_id=decision_id,
        rule_set_version=stored.rule_set_version,
        document_unchanged=document_sha256(rule_set.document) == rule_set.sha256,
        equal=recomputed == stored.decision,
        stored=stored.decision,
        recomputed=recomputed,
    )
