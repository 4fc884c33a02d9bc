"""Catalog use cases (pure: the catalog is code, reviewed like code)."""

from __future__ import annotations

from haoban.catalog.data import BY_CODE, SERVICES
from haoban.catalog.schemas import MaterialView, Service, ServiceDetail, ServiceList, ServiceSummary
from haoban.kit.errors import FieldError, NotFound, ValidationFailed


def find(code: str) -> Service | None:
    return BY_CODE.get(code)


def require(code: str, *, field: str = "service_code") -> Service:
    """The service, or a 422 naming the field."""
    service = BY_CODE.get(code)
    if service is None:
        raise ValidationFailed(
            "There is no such service.", errors=[FieldError(field=field, reason=f"unknown service {code!r}")]
        )
    return service


def you_provide(service: Service) -> list[str]:
    """Codes of the materials the applicant supplies; none for instant services."""
    return [m.code for m in service.materials if m.kind == "applicant"]


def listing() -> ServiceList:
    return ServiceList(
        services=[
            ServiceSummary(
                code=s.code,
                name_zh=s.name_zh,
                name_en=s.name_en,
                department=s.department,
                department_name=s.department_name,
                decision_mode=s.decision_mode,
                sla_working_days=s.sla_working_days,
                materials_you_provide=len(you_provide(s)),
            )
            for s in SERVICES
        ]
    )


def detail(code: str) -> ServiceDetail:
    service = BY_CODE.get(code)
    if service is None:
        raise NotFound("There is no such service.")
    return ServiceDetail(
        code=service.code,
        name_zh=service.name_zh,
        name_en=service.name_en,
        department=service.department,
        department_name=service.department_name,
        legal_basis=list(service.legal_basis),
        decision_mode=service.decision_mode,
        rule_set=service.rule_set,
        sla_working_days=service.sla_working_days,
        tolerant_acceptance=service.tolerant_acceptance,
        materials=[
            MaterialView(
                code=m.code,
                name_zh=m.name_zh,
                name_en=m.name_en,
                kind=m.kind,
                primary=m.primary,
                trust_level=m.trust_level,
                you_provide=m.kind == "applicant",
                items=list(m.items),
            )
            for m in service.materials
        ],
        materials_you_provide=you_provide(service),
    )


def shared_items(service: Service) -> list[str]:
    """The data items the service obtains by sharing (what the applicant authorises)."""
    return list(dict.fromkeys(item for m in service.materials if m.kind == "shared" for item in m.items))
