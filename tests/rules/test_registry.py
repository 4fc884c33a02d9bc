"""Rule sets in the database: loading, immutable versions, the version in effect, stored decisions."""

from __future__ import annotations

import shutil
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import asyncpg
import pytest

from haoban.db.migrations import MigrationError
from haoban.rules import registry
from haoban.rules.engine import evaluate
from haoban.rules.registry import (
    SETS_DIR,
    NoRuleSet,
    RuleSetChanged,
    get_decision,
    rule_set_for,
    sync_rule_sets,
)
from tests.factories import stored_decision
from tests.rules.factories import TODAY, fund_facts, missing

AT = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)


async def _empty_rule_sets(db: asyncpg.Connection) -> None:
    """The test template loads the shipped rule sets; these tests start from none (triggers off for the delete)."""
    await db.execute("SET session_replication_role = replica")
    await db.execute("DELETE FROM rule_sets")
    await db.execute("SET session_replication_role = DEFAULT")


async def test_sync_loads_every_file_once(db: asyncpg.Connection) -> None:
    await _empty_rule_sets(db)
    files = len(list(SETS_DIR.glob("*.yaml")))
    assert await sync_rule_sets(db, at=AT) == files
    assert await sync_rule_sets(db, at=AT) == 0
    assert await db.fetchval("SELECT count(*) FROM rule_sets") == files


async def test_a_changed_file_of_a_loaded_version_is_refused_by_name(db: asyncpg.Connection, tmp_path: Path) -> None:
    await _empty_rule_sets(db)
    shutil.copy(SETS_DIR / "hpf_withdraw_rent_2026_2.yaml", tmp_path / "rent.yaml")
    assert await sync_rule_sets(db, directory=tmp_path, at=AT) == 1
    text = (tmp_path / "rent.yaml").read_text(encoding="utf-8")
    (tmp_path / "rent.yaml").write_text(text.replace("value: 2160000", "value: 9999999"), encoding="utf-8")
    with pytest.raises(RuleSetChanged, match=r"hpf\.withdraw\.rent@2026\.2"):
        await sync_rule_sets(db, directory=tmp_path, at=AT)


async def test_stored_rule_sets_cannot_be_edited(db: asyncpg.Connection) -> None:
    await sync_rule_sets(db, at=AT)
    with pytest.raises(asyncpg.PostgresError, match="append-only"):
        await db.execute("UPDATE rule_sets SET effective_to = '2030-01-01'")


@pytest.mark.parametrize(
    ("day", "version"),
    [
        (date(2025, 1, 1), "hpf.withdraw.rent@2025.1"),
        (date(2025, 12, 31), "hpf.withdraw.rent@2025.1"),
        # 2026.2 (issue 12: places by division code, the household rule) supersedes 2026.1 from its start
        (date(2026, 1, 1), "hpf.withdraw.rent@2026.2"),
        (date(2026, 12, 31), "hpf.withdraw.rent@2026.2"),
        # 2026.3 (the 12-month interval in calendar months) from 2027-01-01
        (date(2027, 1, 1), "hpf.withdraw.rent@2026.3"),
        (date(2031, 5, 5), "hpf.withdraw.rent@2026.3"),
    ],
)
async def test_the_version_in_effect_on_the_day_is_chosen(db: asyncpg.Connection, day: date, version: str) -> None:
    await sync_rule_sets(db, at=AT)
    assert (await rule_set_for(db, "hpf.withdraw.rent", day)).version == version


async def test_no_version_in_effect_is_an_error(db: asyncpg.Connection) -> None:
    await sync_rule_sets(db, at=AT)
    with pytest.raises(NoRuleSet):
        await rule_set_for(db, "hpf.withdraw.rent", date(2024, 12, 31))
    with pytest.raises(NoRuleSet):
        await rule_set_for(db, "no.such.service", TODAY)


async def test_rule_sets_are_compiled_once_per_document(db: asyncpg.Connection) -> None:
    await sync_rule_sets(db, at=AT)
    first = await rule_set_for(db, "hpf.withdraw.rent", TODAY)
    second = await rule_set_for(db, "hpf.withdraw.rent", TODAY)
    assert first is second
    assert registry._CACHE[first.sha256] is first


async def test_a_decision_is_stored_with_its_facts_and_read_back_equal(db: asyncpg.Connection) -> None:
    await sync_rule_sets(db, at=AT)
    rule_set = await rule_set_for(db, "hpf.withdraw.rent", TODAY)
    facts = fund_facts()
    facts["estate.properties"] = missing("estate.properties")
    decision = evaluate(rule_set, facts, today=TODAY)
    application_id = uuid.uuid4()
    decision_id = await stored_decision(
        db, decision=decision, facts=facts, service_code="hpf.withdraw.rent", application_id=application_id, at=AT
    )
    stored = await get_decision(db, decision_id)
    assert stored is not None
    assert stored.decision == decision
    assert stored.facts == facts
    assert (stored.application_id, stored.rule_set_version, stored.decided_at) == (
        application_id,
        "hpf.withdraw.rent@2026.2",
        AT,
    )
    assert await get_decision(db, uuid.uuid4()) is None


async def test_decisions_are_immutable(db: asyncpg.Connection) -> None:
    await sync_rule_sets(db, at=AT)
    rule_set = await rule_set_for(db, "hpf.withdraw.rent", TODAY)
    decision = evaluate(rule_set, fund_facts(), today=TODAY)
    decision_id = await stored_decision(
        db, decision=decision, facts=fund_facts(), service_code="hpf.withdraw.rent", application_id=None, at=AT
    )
    with pytest.raises(asyncpg.PostgresError, match="append-only"):
        await db.execute("UPDATE decisions SET decision = '{}' WHERE id = $1", decision_id)
    with pytest.raises(asyncpg.PostgresError, match="append-only"):
        await db.execute("DELETE FROM decisions WHERE id = $1", decision_id)


def test_the_shipped_city_codes_are_city_level_codes() -> None:
    docs = registry.load_files()
    cities = {v.value for d in docs for name, vs in d.parameters.items() if name == "city_code" for v in vs}
    assert cities == {"410100"}


def test_a_municipality_city_code_is_accepted(tmp_path: Path) -> None:
    text = (SETS_DIR / "hpf_withdraw_leave_city_2026_1.yaml").read_text(encoding="utf-8")
    (tmp_path / "leave.yaml").write_text(text.replace('value: "410100"', 'value: "110100"'), encoding="utf-8")
    assert registry.load_files(tmp_path)[0].parameters["city_code"][0].value == "110100"


@pytest.mark.parametrize(
    ("value", "name"),
    [
        ('"410105"', "city_code"),  # a district of 郑州, not the city
        ('"419999"', "city_code"),  # no such division
        ('"郑州"', "city_code"),  # a name, not a code
        ('"410000"', "city_code"),  # the province
        ("410100", "city_code"),  # a number, not the code's text
        ('"410105"', "spouse_city_code"),
    ],
)
def test_a_place_parameter_that_is_not_a_city_code_is_refused_at_load(tmp_path: Path, value: str, name: str) -> None:
    text = (SETS_DIR / "hpf_withdraw_leave_city_2026_1.yaml").read_text(encoding="utf-8")
    # Added first, before the file's own city_code (a second city_code key would replace it).
    added = f"parameters:\n  {name}:\n    - {{effective_from: 2025-01-01, value: {value}}}\n"
    changed = text.replace("parameters:\n", added)
    if name == "city_code":
        changed = changed.replace('  city_code:\n    - {effective_from: 2025-01-01, value: "410100"}\n', "")
    assert changed.count(f"{name}:") == 1
    (tmp_path / "leave.yaml").write_text(changed, encoding="utf-8")
    with pytest.raises(MigrationError, match=rf"leave\.yaml: parameter {name} "):
        registry.load_files(tmp_path)
