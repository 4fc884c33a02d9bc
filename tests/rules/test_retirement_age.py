"""The statutory retirement age under the gradual reform (NPC Standing Committee, 2024-09-13)."""

from __future__ import annotations

from datetime import date

import pytest

from haoban.rules import retirement
from haoban.rules.engine import evaluate
from tests.rules.factories import TODAY, fund_facts, rule_set


@pytest.mark.parametrize(
    ("birth", "line", "age_months"),
    [
        # men: 60 until born 1964-12; then one month per four months of birth; 63 from 1976-09
        (date(1964, 12, 31), "male", 720),
        (date(1965, 1, 1), "male", 721),
        (date(1965, 4, 30), "male", 721),
        (date(1965, 5, 1), "male", 722),
        (date(1976, 8, 31), "male", 755),
        (date(1976, 9, 1), "male", 756),
        (date(1990, 1, 1), "male", 756),
        # women, original age 55: 58 from 1981-09
        (date(1969, 12, 31), "female_cadre", 660),
        (date(1970, 1, 1), "female_cadre", 661),
        (date(1970, 5, 1), "female_cadre", 662),
        (date(1981, 8, 1), "female_cadre", 695),
        (date(1981, 9, 1), "female_cadre", 696),
        # women, original age 50: one month per two months of birth; 55 from 1984-11
        (date(1974, 12, 31), "female_worker", 600),
        (date(1975, 1, 1), "female_worker", 601),
        (date(1975, 3, 1), "female_worker", 602),
        (date(1984, 10, 1), "female_worker", 659),
        (date(1984, 11, 1), "female_worker", 660),
    ],
)
def test_the_age_at_the_boundaries_of_the_reform(birth: date, line: retirement.Line, age_months: int) -> None:
    assert retirement.retirement_age_months(birth, line) == age_months


def test_the_retirement_day_is_the_birth_date_plus_the_age() -> None:
    assert retirement.retirement_date(date(1964, 12, 31), "male") == date(2024, 12, 31)
    assert retirement.retirement_date(date(1965, 1, 15), "male") == date(2025, 2, 15)  # 60 years 1 month
    assert retirement.retirement_date(date(1965, 12, 31), "male") == date(2026, 3, 31)  # 60 years 3 months
    assert retirement.retirement_date(date(1966, 1, 31), "male") == date(2026, 5, 31)  # 60 years 4 months
    assert retirement.retirement_date(date(1965, 8, 31), "male") == date(2025, 10, 31)  # 60 years 2 months
    assert retirement.retirement_date(date(1966, 9, 30), "male") == date(2027, 3, 30)  # 60 years 6 months
    assert retirement.add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)  # clamped to the month's end


@pytest.mark.parametrize(
    ("birth", "sex", "outcome"),
    [
        # on 2026-11-28 a man born 1966-06-28 is 60 years 5 months old, his statutory age exactly
        ("1966-06-28", "M", "approve"),
        ("1966-06-29", "M", "reject"),
        # born 1966-07-01: 60 years reached on 2026-07-01 (what 2026.1 paid), statutory age 60 years 5 months
        ("1966-07-01", "M", "reject"),
        # born 1971-03-28: 55 years 4 months (the cadre line) reached on 2026-07-28
        ("1971-03-28", "F", "approve"),
        ("1971-07-29", "F", "reject"),  # 55 years 5 months: 2026-12-29
    ],
)
def test_the_retirement_rule_set_uses_the_reform(birth: str, sex: str, outcome: str) -> None:
    facts = fund_facts(identity__birth_date=birth, identity__sex=sex)
    decision = evaluate(rule_set("hpf.withdraw.retirement@2026.2"), facts, today=TODAY)
    assert decision.outcome == outcome, decision.reasons


def test_the_single_age_of_2026_1_paid_before_the_statutory_age() -> None:
    facts = fund_facts(identity__birth_date="1966-07-01", identity__sex="M")
    assert evaluate(rule_set("hpf.withdraw.retirement@2026.1"), facts, today=TODAY).outcome == "approve"
