"""The services Haoban offers: the catalogue part of each declaration (rules/services/, docs/services.md)."""

from __future__ import annotations

import msgspec

from haoban.catalog.schemas import Material, Service
from haoban.rules import declarations


def _service(decls: declarations.Declarations, s: declarations.ServiceDecl) -> Service:
    return Service(
        code=s.code,
        name_zh=s.name_zh,
        name_en=s.name_en,
        department=s.department,
        department_name=s.department_name,
        legal_basis=s.legal_basis,
        materials=tuple(msgspec.convert(msgspec.structs.asdict(decls.material(m)), Material) for m in s.materials),
        decision_mode=s.decision_mode,
        rule_set=s.rule_set_code,
        sla_working_days=s.sla_working_days,
        tolerant_acceptance=s.tolerant_acceptance,
        period=s.period,
        pays_out=s.pays_out,
    )


SERVICES: tuple[Service, ...] = tuple(
    _service(declarations.load(), s)
    for s in sorted(declarations.load().services, key=lambda s: (s.listing_order, s.code))
)
BY_CODE = {s.code: s for s in SERVICES}
