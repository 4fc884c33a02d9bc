"""HTTP: the public service catalog."""

from __future__ import annotations

from typing import Annotated

from litestar import Router, get
from litestar.params import Parameter

from haoban.catalog import service
from haoban.catalog.schemas import ServiceDetail, ServiceList
from haoban.kit.openapi import PUBLIC, example, problems, success

_CODE = Annotated[str, Parameter(max_length=64, pattern=r"^[a-z_.]+$", description="Service code")]


@get(
    "/services",
    operation_id="listServices",
    summary="List the services (事项)",
    description="Every service with its department, decision mode, SLA and how many materials you provide.",
    tags=["services"],
    security=PUBLIC,
    responses={
        **success(
            200,
            ServiceList,
            "The catalog",
            example(
                "services",
                {
                    "services": [
                        {
                            "code": "hpf.withdraw.rent",
                            "name_zh": "无房租房提取住房公积金",
                            "name_en": "Housing fund withdrawal for rent (no own property)",
                            "department": "hpf",
                            "department_name": "住房公积金管理中心",
                            "decision_mode": "instant",
                            "sla_working_days": 1,
                            "materials_you_provide": 0,
                        }
                    ]
                },
            ),
        ),
        **problems(),
    },
)
async def list_services() -> ServiceList:
    return service.listing()


@get(
    "/services/{code:str}",
    operation_id="getService",
    summary="One service: legal basis, materials and who provides them",
    description=(
        "Each material is `shared` (obtained from another government system: the data items are listed), "
        "`applicant` (you supply it: a signed commitment or a self-certified upload) or `not_needed`. "
        "`materials_you_provide` lists the codes you must supply; it is empty for instant services."
    ),
    tags=["services"],
    security=PUBLIC,
    responses={
        **success(
            200,
            ServiceDetail,
            "The service",
            example(
                "rent withdrawal",
                {
                    "code": "hpf.withdraw.rent",
                    "name_zh": "无房租房提取住房公积金",
                    "name_en": "Housing fund withdrawal for rent (no own property)",
                    "department": "hpf",
                    "department_name": "住房公积金管理中心",
                    "legal_basis": ["《住房公积金管理条例》第二十四条"],
                    "decision_mode": "instant",
                    "rule_set": "hpf.withdraw.rent",
                    "sla_working_days": 1,
                    "tolerant_acceptance": False,
                    "materials": [
                        {
                            "code": "property_record",
                            "name_zh": "不动产登记信息（无房证明）",
                            "name_en": "Real-estate registration record (proof of no property)",
                            "kind": "shared",
                            "primary": True,
                            "trust_level": "A",
                            "you_provide": False,
                            "items": ["estate.properties"],
                        }
                    ],
                    "materials_you_provide": [],
                },
            ),
        ),
        **problems(400, 404),
    },
)
async def get_service(code: _CODE) -> ServiceDetail:
    return service.detail(code)


router = Router(path="/v1", route_handlers=[list_services, get_service])
