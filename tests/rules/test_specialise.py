"""Day-specialised programs: constants written in, same results as the general programs."""

from __future__ import annotations

from datetime import date

import pytest

from haoban.rules.engine import evaluate
from haoban.rules.specialise import inline
from tests.rules.factories import TODAY, fund_facts, missing, prop, rule_set, withdrawal

CONSTANTS: dict[str, int | str] = {"city": "郑州", "cap": 5, "today": "2026-11-28"}


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("p.city != city", 'p.city != "郑州"'),
        ('x == "city" || city == y', 'x == "city" || "郑州" == y'),
        ("capital < cap ? cap : today", 'capital < 5 ? 5 : "2026-11-28"'),
        ("has(a.cap)", "has(a.cap)"),
        ("'it\\'s city' + city", "'it\\'s city' + \"郑州\""),
    ],
)
def test_inline_replaces_whole_identifiers_outside_strings_and_fields(expr: str, expected: str) -> None:
    assert inline(expr, CONSTANTS) == expected


@pytest.mark.parametrize("version", ["hpf.withdraw.rent@2026.1", "hpf.withdraw.loan_repayment@2026.1"])
def test_shipped_rule_sets_are_specialised(version: str) -> None:
    day = rule_set(version).day(TODAY)
    assert day.context_extra == {}
    assert all("today" not in p.variables() for p in day.programs)


@pytest.mark.parametrize(
    "facts",
    [
        fund_facts(),
        fund_facts(estate__properties=[prop("郑州", mortgaged=True)], ledger__balance_fen=50_000),
        fund_facts(housing_fund__withdrawals=[withdrawal("2026-01-05")], housing_fund__status="sealed"),
        {**fund_facts(), "estate.properties": missing("estate.properties")},
    ],
)
@pytest.mark.parametrize(
    "version", ["hpf.withdraw.rent@2026.1", "hpf.withdraw.loan_repayment@2026.1", "hpf.withdraw.retirement@2026.1"]
)
def test_specialised_and_general_programs_decide_alike(version: str, facts: dict[str, object]) -> None:
    compiled = rule_set(version)
    on = date(2026, 8, 3)
    specialised = evaluate(compiled, facts, today=on)  # type: ignore[arg-type]
    general = compiled.day(on)
    compiled._days[on] = type(general)(
        params=general.params,
        context_extra={**general.params, "today": on.isoformat()},
        programs=tuple(c.program for c in compiled.checks),
        amount=compiled.amount.program if compiled.amount else None,
        combined=compiled.combined,
    )
    try:
        assert evaluate(compiled, facts, today=on) == specialised  # type: ignore[arg-type]
    finally:
        compiled._days.pop(on)
