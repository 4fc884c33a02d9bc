"""`haoban decisions replay ID`: recompute from the stored facts and version."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from uuid import UUID

import asyncpg
import pytest

from haoban.cli import main
from haoban.rules.engine import evaluate
from haoban.rules.registry import rule_set_for, sync_rule_sets
from haoban.rules.replay import replay
from haoban.rules.schemas import Fact
from tests.conftest import server_env
from tests.factories import stored_decision
from tests.rules.factories import TODAY, fund_facts, missing, prop, rental_facts

AT = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)


async def _decided(db: asyncpg.Connection) -> UUID:
    await sync_rule_sets(db, at=AT)
    rule_set = await rule_set_for(db, "hpf.withdraw.rent", TODAY)
    facts = {**fund_facts(ledger__balance_fen=900_000), "today": Fact(value=TODAY.isoformat(), source="haoban")}
    decision = evaluate(rule_set, facts, today=TODAY)
    assert decision.amount_fen == 800_000
    return await stored_decision(
        db, decision=decision, facts=facts, service_code="hpf.withdraw.rent", application_id=None, at=AT
    )


async def _tamper(db: asyncpg.Connection) -> None:
    """Raise the retained minimum in the stored document, bypassing the append-only trigger."""
    async with db.transaction():
        await db.execute("SET LOCAL session_replication_role = replica")
        await db.execute(
            "UPDATE rule_sets SET document = jsonb_set(document, '{parameters,retained_min_fen,0,value}', '200000')"
            " WHERE version = 'hpf.withdraw.rent@2026.2'"  # the version in effect (issue 12)
        )


def _cli(db_url: str, monkeypatch: pytest.MonkeyPatch, *argv: str) -> int:
    for name, value in server_env(db_url).items():
        monkeypatch.setenv(name, value)
    return main(["decisions", "replay", *argv])


async def test_replay_gives_the_same_decision(db: asyncpg.Connection) -> None:
    decision_id = await _decided(db)
    result = await replay(db, decision_id)
    assert result.equal
    assert result.document_unchanged
    assert result.recomputed == result.stored


async def test_replay_shows_a_tampered_rule_set(db: asyncpg.Connection) -> None:
    decision_id = await _decided(db)
    await _tamper(db)
    result = await replay(db, decision_id)
    assert not result.equal
    assert not result.document_unchanged
    assert (result.stored.amount_fen, result.recomputed.amount_fen) == (800_000, 700_000)


async def test_cli_exits_0_when_equal_and_1_after_tampering(
    db: asyncpg.Connection, db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    decision_id = await _decided(db)
    assert await asyncio.to_thread(_cli, db_url, monkeypatch, str(decision_id)) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["equal"] is True
    assert printed["stored"] == printed["recomputed"]

    await _tamper(db)
    assert await asyncio.to_thread(_cli, db_url, monkeypatch, str(decision_id)) == 1
    captured = capsys.readouterr()
    printed = json.loads(captured.out)
    assert printed["equal"] is False
    assert printed["stored"]["amount_fen"] != printed["recomputed"]["amount_fen"]
    assert "differs" in captured.err


async def test_cli_names_an_unknown_decision(
    db: asyncpg.Connection, db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    missing_id = uuid.uuid4()
    assert await asyncio.to_thread(_cli, db_url, monkeypatch, str(missing_id)) == 1
    assert str(missing_id) in capsys.readouterr().err
    assert await asyncio.to_thread(_cli, db_url, monkeypatch, "not-a-uuid") == 1


@pytest.mark.parametrize(
    ("service_code", "facts", "outcome"),
    [
        ("hpf.withdraw.rent", fund_facts(estate__properties=[prop("郑州")]), "reject"),
        ("hpf.withdraw.retirement", fund_facts(identity__birth_date="1950-02-28"), "approve"),
        ("hpf.withdraw.loan_repayment", {**fund_facts(), "estate.properties": missing("estate.properties")}, "review"),
        ("housing.public_rental.apply", rental_facts(applicant__household_size=None), "need_materials"),
    ],
)
async def test_every_outcome_replays_equal(
    db: asyncpg.Connection, service_code: str, facts: dict[str, Fact], outcome: str
) -> None:
    await sync_rule_sets(db, at=AT)
    facts = {**facts, "today": Fact(value=TODAY.isoformat(), source="haoban")}
    decision = evaluate(await rule_set_for(db, service_code, TODAY), facts, today=TODAY)
    assert decision.outcome == outcome
    decision_id = await stored_decision(
        db, decision=decision, facts=facts, service_code=service_code, application_id=uuid.uuid4(), at=AT
    )
    result = await replay(db, decision_id)
    assert result.equal, result
