"""The 12-month interval between two withdrawals of a kind is calendar months (rule sets 2026.3).

2026.2 counted 365 days, which pays a day early over 29 February 2028: a rent
withdrawal on 2027-03-01 was allowed again on 2028-02-29. 2026.3, in effect from
2027-01-01, counts twelve calendar months, and a withdrawal on 29 February waits
for 1 March in a year without one (as `tests/rules/oracle.py` reads the policy).
"""

from __future__ import annotations

from datetime import date

import pytest

from haoban.rules.engine import evaluate
from tests.rules import oracle
from tests.rules.factories import fund_facts, rule_set, withdrawal

CASES = [
    # (earlier withdrawal, decision day, allowed again?)
    ("2027-03-01", date(2028, 2, 29), False),
    ("2027-03-01", date(2028, 3, 1), True),
    ("2028-02-29", date(2029, 2, 28), False),
    ("2028-02-29", date(2029, 3, 1), True),
    ("2027-01-31", date(2028, 1, 30), False),
    ("2027-01-31", date(2028, 1, 31), True),
    ("2027-12-31", date(2028, 12, 30), False),
    ("2027-12-31", date(2028, 12, 31), True),
    ("2027-06-15", date(2028, 6, 14), False),
    ("2027-06-15", date(2028, 6, 15), True),
]


SETS = [("hpf.withdraw.rent@2026.3", "rent"), ("hpf.withdraw.loan_repayment@2026.3", "loan_repayment")]


@pytest.mark.parametrize(("version", "kind"), SETS)
@pytest.mark.parametrize(("earlier", "today", "allowed"), CASES)
def test_twelve_calendar_months_pass_before_the_next_withdrawal(
    version: str, kind: str, earlier: str, today: date, allowed: bool
) -> None:
    facts = fund_facts(housing_fund__withdrawals=[withdrawal(earlier, kind=kind)])
    step = next(s for s in evaluate(rule_set(version), facts, today=today).trace if s.rule_id == "once_per_period")
    assert step.passed is allowed
    ruled_out = oracle.Earlier(on=date.fromisoformat(earlier), kind=kind)
    assert oracle._within_12_months(ruled_out, kind, today) is not allowed  # the oracle reads the policy the same way


def test_365_days_paid_a_day_early_over_29_february() -> None:
    """The defect 2026.3 fixes, kept visible: 2026.2 lets 2027-03-01 through on 2028-02-29."""
    facts = fund_facts(housing_fund__withdrawals=[withdrawal("2027-03-01")])
    old = evaluate(rule_set("hpf.withdraw.rent@2026.2"), facts, today=date(2028, 2, 29))
    new = evaluate(rule_set("hpf.withdraw.rent@2026.3"), facts, today=date(2028, 2, 29))
    assert "withdrawn_within_period" not in old.reasons
    assert "withdrawn_within_period" in new.reasons


def test_another_kind_does_not_count() -> None:
    facts = fund_facts(housing_fund__withdrawals=[withdrawal("2028-01-01", kind="retirement")])
    step = next(
        s
        for s in evaluate(rule_set("hpf.withdraw.rent@2026.3"), facts, today=date(2028, 6, 1)).trace
        if s.rule_id == "once_per_period"
    )
    assert step.passed is True
