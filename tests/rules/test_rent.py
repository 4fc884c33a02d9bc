"""租房提取: each rule, the amount, and missing facts."""

from __future__ import annotations

from datetime import date

import pytest

from haoban.rules.engine import evaluate
from tests.rules.factories import TODAY, fund_facts, missing, prop, rule_set, withdrawal

RENT = rule_set("hpf.withdraw.rent@2026.1")


def test_eligible_citizen_gets_the_annual_cap_when_the_balance_is_large() -> None:
    decision = evaluate(RENT, fund_facts(), today=TODAY)
    assert decision.outcome == "approve"
    assert decision.amount_fen == 2_160_000  # the cap from 2026-07-01
    assert decision.reasons == []
    assert [s.rule_id for s in decision.trace] == [r.id for r in RENT.doc.rules] + ["amount"]
    assert all(s.passed for s in decision.trace)


def test_amount_is_balance_minus_retained_minimum_when_below_the_cap() -> None:
    decision = evaluate(RENT, fund_facts(ledger__balance_fen=600_000), today=TODAY)
    assert decision.outcome == "approve"
    assert decision.amount_fen == 500_000
    assert decision.trace[-1].inputs == {
        "ledger.balance_fen": 600_000,
        "annual_cap_fen": 2_160_000,
        "retained_min_fen": 100_000,
        "amount_fen": 500_000,
    }


@pytest.mark.parametrize("balance", [100_000, 40_000, 0])
def test_balance_at_or_below_the_retained_minimum_is_refused_with_a_reason(balance: int) -> None:
    decision = evaluate(RENT, fund_facts(ledger__balance_fen=balance), today=TODAY)
    assert decision.outcome == "reject"
    assert decision.reasons == ["balance_below_retained"]
    assert decision.amount_fen is None
    assert decision.trace[-1].passed is False


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"housing_fund__status": "sealed"}, "account_sealed"),
        ({"housing_fund__status": "closed"}, "account_closed"),
        ({"housing_fund__contribution_months": 2}, "contribution_too_short"),
        ({"estate__properties": [prop("郑州")]}, "owns_property_in_city"),
        ({"housing_fund__loan_outstanding_fen": 1}, "fund_loan_outstanding"),
        ({"housing_fund__withdrawals": [withdrawal("2026-03-01")]}, "withdrawn_within_period"),
        ({"haoban__withdrawals": [withdrawal("2026-06-01")]}, "withdrawn_within_period"),
        ({"housing_fund__withdrawals": [withdrawal("2025-11-29")]}, "withdrawn_within_period"),
    ],
)
def test_each_failed_rule_rejects_with_its_reason(overrides: dict[str, object], reason: str) -> None:
    decision = evaluate(RENT, fund_facts(**overrides), today=TODAY)
    assert decision.outcome == "reject"
    assert decision.reasons == [reason]
    assert decision.amount_fen is None
    failed = [s for s in decision.trace if s.passed is False]
    assert [s.reason for s in failed] == [reason]


def test_a_property_owner_hears_why_in_both_languages() -> None:
    decision = evaluate(RENT, fund_facts(estate__properties=[prop("郑州")]), today=TODAY)
    step = next(s for s in decision.trace if s.rule_id == "no_property_in_city")
    assert step.inputs["estate.properties"][0]["city"] == "郑州"
    assert step.inputs["city"] == "郑州"
    assert "无自有住房" in step.message_zh
    assert "No property" in step.message_en


@pytest.mark.parametrize(
    "overrides",
    [
        {"estate__properties": [prop("上海")]},
        {"housing_fund__withdrawals": [withdrawal("2025-11-28")]},  # exactly 365 days ago
        {"housing_fund__withdrawals": [withdrawal("2026-10-01", kind="loan_repayment")]},
        {"haoban__withdrawals": [withdrawal("2026-10-01", kind="retirement")]},
    ],
)
def test_what_does_not_count_against_the_citizen(overrides: dict[str, object]) -> None:
    assert evaluate(RENT, fund_facts(**overrides), today=TODAY).outcome == "approve"


def test_several_failures_give_every_reason() -> None:
    facts = fund_facts(housing_fund__status="sealed", estate__properties=[prop()], housing_fund__loan_outstanding_fen=5)
    decision = evaluate(RENT, facts, today=TODAY)
    assert decision.outcome == "reject"
    assert decision.reasons == ["account_sealed", "owns_property_in_city", "fund_loan_outstanding"]


@pytest.mark.parametrize("name", sorted(fund_facts()))
def test_a_missing_fact_is_never_a_reject(name: str) -> None:
    facts = fund_facts()
    facts[name] = missing(name)
    decision = evaluate(RENT, facts, today=TODAY)
    used = {n for n, _ in RENT.fact_vars}
    if name in used:
        assert decision.outcome == "review"
        assert decision.reasons == [f"missing:{name}"]
        assert decision.amount_fen is None
        assert any(s.passed is None for s in decision.trace)
    else:
        assert decision.outcome == "approve"


def test_a_known_failure_rejects_even_when_another_fact_is_missing() -> None:
    facts = fund_facts(housing_fund__status="closed")
    facts["estate.properties"] = missing("estate.properties")
    decision = evaluate(RENT, facts, today=TODAY)
    assert decision.outcome == "reject"
    assert decision.reasons == ["account_closed"]


def test_absent_facts_count_as_missing() -> None:
    decision = evaluate(RENT, {}, today=TODAY)
    assert decision.outcome == "review"
    assert "missing:housing_fund.status" in decision.reasons


@pytest.mark.parametrize(
    ("today", "cap"),
    [(date(2026, 1, 1), 1_800_000), (date(2026, 6, 30), 1_800_000), (date(2026, 7, 1), 2_160_000)],
)
def test_the_cap_in_effect_on_the_day_is_used(today: date, cap: int) -> None:
    facts = fund_facts(housing_fund__withdrawals=[])
    assert evaluate(RENT, facts, today=today).amount_fen == cap
