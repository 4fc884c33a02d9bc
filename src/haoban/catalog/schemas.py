"""Catalog types: services and their materials (pure data)."""

from __future__ import annotations

from typing import Literal

import msgspec

MaterialKind = Literal["shared", "applicant", "not_needed"]
DecisionMode = Literal["instant", "manual"]
PeriodKind = Literal["calendar_year", "once", "open"]


class Material(msgspec.Struct, frozen=True, kw_only=True):
    """One material: obtained by sharing (named data items), supplied by the applicant, or not needed."""

    code: str
    name_zh: str
    name_en: str
    kind: MaterialKind
    items: tuple[str, ...] = ()
    primary: bool = True
    trust_level: Literal["A", "B", "C", "D"] | None = None
    how_to_supply: str | None = None


class Service(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    name_zh: str
    name_en: str
    department: str
    department_name: str
    legal_basis: tuple[str, ...]
    materials: tuple[Material, ...]
    decision_mode: DecisionMode
    rule_set: str
    sla_working_days: int
    tolerant_acceptance: bool
    period: PeriodKind
    pays_out: bool


class MaterialView(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    name_zh: str
    name_en: str
    kind: MaterialKind
    primary: bool
    trust_level: str | None
    you_provide: bool
    items: list[str]


class ServiceSummary(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    name_zh: str
    name_en: str
    department: str
    department_name: str
    decision_mode: DecisionMode
    sla_working_days: int
    materials_you_provide: int


class ServiceDetail(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    name_zh: str
    name_en: str
    department: str
    department_name: str
    legal_basis: list[str]
    decision_mode: DecisionMode
    rule_set: str
    sla_working_days: int
    tolerant_acceptance: bool
    materials: list[MaterialView]
    materials_you_provide: list[str]


class ServiceList(msgspec.Struct, frozen=True, kw_only=True):
    services: list[ServiceSummary]
