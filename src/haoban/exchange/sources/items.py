"""The data items each source holds, and who holds them (pure data)."""

from __future__ import annotations

from typing import get_args

from haoban.exchange.sources.records import SourceName

SOURCES: tuple[SourceName, ...] = get_args(SourceName)

ITEMS: dict[SourceName, tuple[str, ...]] = {
    "identity": ("name", "sex", "birth_date", "address", "status"),
    "household": ("household_no", "city", "division_code", "city_code", "address", "members", "registered_since"),
    "housing_fund": (
        "account_no",
        "status",
        "balance_fen",
        "monthly_deposit_fen",
        "contribution_months",
        "employer",
        "bank_card",
        "withdrawals",
        "loan_outstanding_fen",
        "city",
        "division_code",
        "city_code",
    ),
    "estate": ("properties", "spouse_properties"),
    "marriage": ("status", "spouse"),
    "social_security": ("city", "division_code", "city_code", "contribution_months"),
}

AGENCIES: dict[SourceName, tuple[str, str]] = {
    "identity": ("公安人口库", "Public security population registry"),
    "household": ("公安户籍管理", "Household registration (hukou)"),
    "housing_fund": ("住房公积金管理中心", "Housing provident fund centre"),
    "estate": ("不动产登记中心", "Real-estate registration centre"),
    "marriage": ("民政婚姻登记", "Civil affairs marriage registry"),
    "social_security": ("人力资源和社会保障局", "Human resources and social security bureau"),
}


def item_names(source: SourceName) -> list[str]:
    return [f"{source}.{item}" for item in ITEMS[source]]


def all_item_names(sources: tuple[SourceName, ...] | list[SourceName] = SOURCES) -> list[str]:
    return [name for source in sources for name in item_names(source)]


def is_known_item(name: str) -> bool:
    """`source.item` or the wildcard `source.*`."""
    source, _, item = name.partition(".")
    if source not in SOURCES:
        return False
    return item == "*" or item in ITEMS[source]
