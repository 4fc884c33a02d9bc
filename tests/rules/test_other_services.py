"""Retirement, loan repayment and public rental: each rule and the pass outcome."""

from __future__ import annotations

import pytest

from haoban.rules.engine import evaluate
from tests.rules.factories import TODAY, fund_facts, missing, prop, rental_facts, rule_set, withdrawal

RETIREMENT = rule_set("hpf.withdraw.retirement@2026.1")
LOAN = rule_set("hpf.withdraw.loan_repayment@2026.1")
RENTAL = rule_set("housing.public_rental.apply@2026.1")


# --- retirement -----------------------------------------------------------------


@pytest.mark.parametrize(("sex", "born"), [("M", "1966-11-28"), ("M", "1950-01-01"), ("F", "1971-11-28")])
def test_retirement_age_reached_pays_the_whole_balance_and_closes_the_account(sex: str, born: str) -> None:
    facts = fund_facts(identity__sex=sex, identity__birth_date=born, ledger__balance_fen=1_234_567)
    decision = evaluate(RETIREMENT, facts, today=TODAY)
    assert decision.outcome == "approve"
    assert decision.amount_fen == 1_234_567
    assert decision.close_account is True


@pytest.mark.parametrize(("sex", "born"), [("M", "1966-11-29"), ("M", "1971-01-01"), ("F", "1971-11-29")])
def test_retirement_age_not_reached_is_refused(sex: str, born: str) -> None:
    decision = evaluate(RETIREMENT, fund_facts(identity__sex=sex, identity__birth_date=born), today=TODAY)
    assert decision.outcome == "reject"
    assert decision.reasons == ["retirement_age_not_reached"]
    assert decision.close_account is False


@pytest.mark.parametrize(("status", "reason"), [("sealed", "account_sealed"), ("closed", "account_closed")])
def test_retirement_from_a_sealed_or_closed_account_is_refused(status: str, reason: str) -> None:
    decision = evaluate(RETIREMENT, fund_facts(housing_fund__status=status), today=TODAY)
    assert (decision.outcome, decision.reasons) == ("reject", [reason])


def test_retirement_with_nothing_to_withdraw_is_refused() -> None:
    decision = evaluate(RETIREMENT, fund_facts(ledger__balance_fen=0), today=TODAY)
    assert (decision.outcome, decision.reasons) == ("reject", ["nothing_to_withdraw"])


@pytest.mark.parametrize("name", ["identity.birth_date", "identity.sex", "ledger.balance_fen", "housing_fund.status"])
def test_retirement_with_a_missing_fact_goes_to_review(name: str) -> None:
    facts = fund_facts()
    facts[name] = missing(name)
    decision = evaluate(RETIREMENT, facts, today=TODAY)
    assert (decision.outcome, decision.reasons) == ("review", [f"missing:{name}"])


# --- loan repayment ---------------------------------------------------------------


def test_loan_repayment_with_an_own_city_mortgage_is_approved() -> None:
    facts = fund_facts(estate__properties=[prop("上海", mortgaged=True), prop("郑州", mortgaged=True)])
    decision = evaluate(LOAN, facts, today=TODAY)
    assert decision.outcome == "approve"
    assert decision.amount_fen == 3_650_000 - 100_000


def test_loan_repayment_amount_is_capped() -> None:
    facts = fund_facts(estate__properties=[prop(mortgaged=True)], ledger__balance_fen=9_000_000)
    assert evaluate(LOAN, facts, today=TODAY).amount_fen == 6_000_000


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"estate__properties": []}, "no_mortgaged_property_in_city"),
        ({"estate__properties": [prop("郑州", mortgaged=False)]}, "no_mortgaged_property_in_city"),
        ({"estate__properties": [prop("上海", mortgaged=True)]}, "no_mortgaged_property_in_city"),
        ({"housing_fund__status": "sealed"}, "account_sealed"),
        ({"housing_fund__contribution_months": 1}, "contribution_too_short"),
        (
            {"haoban__withdrawals": [withdrawal("2026-02-01", kind="loan_repayment")]},
            "withdrawn_within_period",
        ),
    ],
)
def test_loan_repayment_refusals(overrides: dict[str, object], reason: str) -> None:
    facts = fund_facts(**{"estate__properties": [prop(mortgaged=True)], **overrides})
    decision = evaluate(LOAN, facts, today=TODAY)
    assert (decision.outcome, decision.reasons) == ("reject", [reason])


def test_a_recent_rent_withdrawal_does_not_block_loan_repayment() -> None:
    facts = fund_facts(estate__properties=[prop(mortgaged=True)], haoban__withdrawals=[withdrawal("2026-11-01")])
    assert evaluate(LOAN, facts, today=TODAY).outcome == "approve"


# --- public rental ------------------------------------------------------------------


def test_public_rental_that_passes_goes_to_a_person() -> None:
    decision = evaluate(RENTAL, rental_facts(), today=TODAY)
    assert decision.outcome == "review"
    assert decision.amount_fen is None
    assert decision.reasons == []
    assert all(s.passed for s in decision.trace)


@pytest.mark.parametrize("overrides", [{"household__city": "上海"}, {"social_security__city": "上海"}])
def test_either_household_registration_or_social_security_in_the_city_is_enough(
    overrides: dict[str, object],
) -> None:
    assert evaluate(RENTAL, rental_facts(**overrides), today=TODAY).reasons == []


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"household__city": "上海", "social_security__city": "北京"}, "not_resident_in_city"),
        ({"estate__properties": [prop("郑州")]}, "owns_property_in_city"),
        ({"applicant__monthly_income_fen": 300_001}, "income_above_limit"),
        ({"applicant__monthly_income_fen": -1}, "income_above_limit"),
        ({"applicant__household_size": 0}, "household_size_invalid"),
    ],
)
def test_public_rental_refusals(overrides: dict[str, object], reason: str) -> None:
    decision = evaluate(RENTAL, rental_facts(**overrides), today=TODAY)
    assert (decision.outcome, decision.reasons) == ("reject", [reason])


def test_residency_passes_on_the_known_source_when_the_other_is_unavailable() -> None:
    facts = rental_facts()
    facts["household.city"] = missing("household.city")
    decision = evaluate(RENTAL, facts, today=TODAY)
    step = next(s for s in decision.trace if s.rule_id == "resident_in_city")
    assert step.passed is True
    assert decision.reasons == []


def test_residency_unknown_when_the_known_source_says_elsewhere() -> None:
    facts = rental_facts(social_security__city="上海")
    facts["household.city"] = missing("household.city", "no_record")
    decision = evaluate(RENTAL, facts, today=TODAY)
    assert (decision.outcome, decision.reasons) == ("review", ["missing:household.city"])


def test_undeclared_income_asks_for_materials_and_wins_over_review() -> None:
    facts = rental_facts()
    facts["applicant.monthly_income_fen"] = missing("applicant.monthly_income_fen", "not_supplied")
    assert evaluate(RENTAL, facts, today=TODAY).outcome == "need_materials"
    facts["estate.properties"] = missing("estate.properties")
    decision = evaluate(RENTAL, facts, today=TODAY)
    assert decision.outcome == "need_materials"
    assert decision.reasons == ["missing:estate.properties", "missing:applicant.monthly_income_fen"]
