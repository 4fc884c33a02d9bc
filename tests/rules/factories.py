"""Facts that pass every rule of a service; tests change one thing at a time."""

from __future__ import annotations

from datetime import date
from typing import Any

from haoban.places import divisions
from haoban.rules.engine import CompiledRuleSet
from haoban.rules.facts import retirement_fact
from haoban.rules.registry import compiled, load_files
from haoban.rules.schemas import Fact

TODAY = date(2026, 11, 28)


def rule_set(version: str) -> CompiledRuleSet:
    return {d.version: compiled(d) for d in load_files()}[version]


def known(name: str, value: Any) -> Fact:
    return Fact(value=value, source=name.partition(".")[0], trust_level="A")


def missing(name: str, why: str = "unavailable: timeout") -> Fact:
    return Fact(value=None, source=name.partition(".")[0], missing=why)


def withdrawal(on: str, kind: str = "rent", amount_fen: int = 1_000_000) -> dict[str, Any]:
    return {"withdrawn_on": on, "kind": kind, "amount_fen": amount_fen}


def fund_facts(**overrides: Any) -> dict[str, Fact]:
    values: dict[str, Any] = {
        "housing_fund.status": "normal",
        "housing_fund.contribution_months": 36,
        "housing_fund.loan_outstanding_fen": 0,
        "housing_fund.withdrawals": [withdrawal("2025-06-01")],
        "estate.properties": [],
        "estate.spouse_properties": [],
        "haoban.withdrawals": [],
        "ledger.balance_fen": 3_650_000,
        "identity.birth_date": "1960-05-01",
        "identity.sex": "M",
    }
    values.update({k.replace("__", "."): v for k, v in overrides.items()})
    facts = {name: known(name, value) for name, value in values.items()}
    facts["identity.retirement_on"] = retirement_fact(facts)  # derived as build_facts derives it
    return facts


def prop(city: str = "郑州", *, mortgaged: bool = False, seized: bool = False) -> dict[str, Any]:
    """A property fact as the exchange gives it: the display city and its GB/T 2260 codes."""
    place = divisions.resolve(city)
    return {
        "certificate_no": "豫(2020)郑州市不动产权第0001号",
        "city": city,
        "division_code": place.code if place else None,
        "city_code": place.city_code if place else None,
        "address": "郑东新区 8 号",
        "area_m2": 89.5,
        "mortgaged": mortgaged,
        "seized": seized,
        "co_owners": [],
    }


def rental_facts(**overrides: Any) -> dict[str, Fact]:
    values: dict[str, Any] = {
        "household.city": "郑州",
        "household.city_code": "410100",
        "social_security.city": "郑州",
        "social_security.city_code": "410100",
        "estate.properties": [],
        "estate.spouse_properties": [],
        "applicant.monthly_income_fen": 250_000,
        "applicant.household_size": 3,
    }
    values.update({k.replace("__", "."): v for k, v in overrides.items()})
    return {name: known(name, value) for name, value in values.items()}
