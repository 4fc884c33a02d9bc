"""Facts that pass every rule of a service; tests change one thing at a time."""

from __future__ import annotations

from datetime import date
from typing import Any

from haoban.rules.engine import CompiledRuleSet
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
        "haoban.withdrawals": [],
        "ledger.balance_fen": 3_650_000,
        "identity.birth_date": "1960-05-01",
        "identity.sex": "M",
    }
    values.update({k.replace("__", "."): v for k, v in overrides.items()})
    return {name: known(name, value) for name, value in values.items()}


def prop(city: str = "郑州", *, mortgaged: bool = False) -> dict[str, Any]:
    return {
        "certificate_no": "豫(2020)郑州市不动产权第0001号",
        "city": city,
        "address": "郑东新区 8 号",
        "area_m2": 89.5,
        "mortgaged": mortgaged,
        "seized": False,
        "co_owners": [],
    }


def rental_facts(**overrides: Any) -> dict[str, Fact]:
    values: dict[str, Any] = {
        "household.city": "郑州",
        "social_security.city": "郑州",
        "estate.properties": [],
        "applicant.monthly_income_fen": 250_000,
        "applicant.household_size": 3,
    }
    values.update({k.replace("__", "."): v for k, v in overrides.items()})
    return {name: known(name, value) for name, value in values.items()}
