"""The engine itself: compiling, determinism, effective dates, bad data."""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec
import pytest

from haoban.rules.engine import RuleSetInvalid, compile_rule_set, evaluate
from haoban.rules.registry import load_files
from haoban.rules.schemas import Fact, RuleSetDoc
from tests.rules.factories import TODAY, fund_facts, missing, prop, rental_facts, rule_set

RENT = rule_set("hpf.withdraw.rent@2026.1")
RENT_2025 = rule_set("hpf.withdraw.rent@2025.1")


def _doc(**changes: Any) -> RuleSetDoc:
    base = msgspec.to_builtins(RENT.doc)
    base.update(changes)
    return msgspec.convert(base, RuleSetDoc)


def _rule(**changes: Any) -> dict[str, Any]:
    rule: dict[str, Any] = msgspec.to_builtins(RENT.doc.rules[0])
    rule.update(changes)
    return rule


def test_every_shipped_rule_set_compiles_and_covers_the_services() -> None:
    codes = {d.service_code for d in load_files()}
    assert codes == {
        "hpf.withdraw.rent",
        "hpf.withdraw.retirement",
        "hpf.withdraw.loan_repayment",
        "hpf.withdraw.leave_city",
        "housing.public_rental.apply",
    }


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        (_rule(expr="housing_fund_status =="), "account_not_sealed"),
        (_rule(expr="housing_fund_status != sealed_value"), "undeclared"),
        (_rule(facts=["housing_fund.status", "estate.properties"]), "does not use"),
    ],
)
def test_a_broken_rule_is_refused_by_id(rule: dict[str, Any], words: str) -> None:
    with pytest.raises(RuleSetInvalid, match=words):
        compile_rule_set(_doc(rules=[rule]))


def test_an_approving_rule_set_needs_an_amount() -> None:
    with pytest.raises(RuleSetInvalid, match="amount"):
        compile_rule_set(_doc(amount=None))


def test_a_parameter_must_have_a_value_from_the_first_day() -> None:
    params = msgspec.to_builtins(RENT.doc.parameters)
    params["annual_cap_fen"] = [{"effective_from": "2026-02-01", "value": 1}]
    with pytest.raises(RuleSetInvalid, match="annual_cap_fen"):
        compile_rule_set(_doc(parameters=params))


def test_same_facts_and_day_give_an_equal_decision_even_after_a_json_round_trip() -> None:
    facts = fund_facts(estate__properties=[prop("上海")])
    first = evaluate(RENT, facts, today=TODAY)
    again = msgspec.json.decode(msgspec.json.encode(facts), type=dict[str, Fact])
    second = evaluate(compile_rule_set(RENT.doc), again, today=TODAY)
    assert first == second
    assert msgspec.json.encode(first) == msgspec.json.encode(second)


def test_a_different_fact_gives_a_different_decision() -> None:
    assert evaluate(RENT, fund_facts(), today=TODAY) != evaluate(
        RENT, fund_facts(ledger__balance_fen=3_650_001), today=TODAY
    )


def test_versions_carry_their_own_parameters() -> None:
    facts = fund_facts(housing_fund__withdrawals=[], ledger__balance_fen=9_000_000)
    old = evaluate(RENT_2025, facts, today=date(2025, 8, 1))
    new = evaluate(RENT, facts, today=date(2026, 8, 1))
    assert (old.rule_set_version, old.amount_fen) == ("hpf.withdraw.rent@2025.1", 1_440_000)
    assert (new.rule_set_version, new.amount_fen) == ("hpf.withdraw.rent@2026.1", 2_160_000)
    small = fund_facts(housing_fund__withdrawals=[], ledger__balance_fen=300_000)
    assert evaluate(RENT_2025, small, today=date(2025, 8, 1)).amount_fen == 250_000  # retained 500 yuan then


@pytest.mark.parametrize(
    ("day", "old", "new"),
    [(date(2024, 12, 31), False, False), (date(2025, 12, 31), True, False), (date(2026, 1, 1), False, True)],
)
def test_effective_dates(day: date, old: bool, new: bool) -> None:
    assert (RENT_2025.in_effect(day), RENT.in_effect(day)) == (old, new)


def test_values_of_the_wrong_shape_go_to_review_not_reject() -> None:
    facts = fund_facts(estate__properties="none", housing_fund__contribution_months="many")
    decision = evaluate(RENT, facts, today=TODAY)
    assert decision.outcome == "review"
    assert decision.reasons == ["unevaluable:contribution_months", "unevaluable:no_property_in_city"]


def test_every_combination_of_missing_facts_avoids_reject() -> None:
    rental = rule_set("housing.public_rental.apply@2026.1")
    names = sorted(rental_facts())
    for mask in range(1, 2 ** len(names)):
        facts = rental_facts()
        for i, name in enumerate(names):
            if mask >> i & 1:
                facts[name] = missing(name)
        decision = evaluate(rental, facts, today=TODAY)
        assert decision.outcome in ("review", "need_materials"), (mask, decision)
