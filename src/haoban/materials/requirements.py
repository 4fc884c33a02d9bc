"""What a service asks the applicant for, read from the catalog (pure).

Applicant materials of trust level C are uploads (self-certified copies); of
trust level D they are letters signed in the app. The one authorization and
commitment letter of "1+1+N" is `commitment_letter`.
"""

from __future__ import annotations

from datetime import date

from haoban.catalog.data import BY_CODE
from haoban.catalog.schemas import Material, Service
from haoban.materials import workdays

LETTER_CODE = "commitment_letter"
SUPPLEMENT_WORKING_DAYS = 10  # never more than the service's SLA


def service(code: str) -> Service | None:
    return BY_CODE.get(code)


def uploads(svc: Service) -> list[Material]:
    return [m for m in svc.materials if m.kind == "applicant" and m.trust_level == "C"]


def upload_codes(svc: Service) -> list[str]:
    return [m.code for m in uploads(svc)]


def takes_materials(svc: Service) -> bool:
    return bool(uploads(svc)) or any(m.code == LETTER_CODE for m in svc.materials)


def missing(svc: Service, supplied: set[str]) -> tuple[list[Material], list[Material]]:
    """The uploads not yet supplied, split into (primary, secondary)."""
    absent = [m for m in uploads(svc) if m.code not in supplied]
    return [m for m in absent if m.primary], [m for m in absent if not m.primary]


def supplement_days(svc: Service) -> int:
    return max(1, min(SUPPLEMENT_WORKING_DAYS, svc.sla_working_days))


def supplement_deadline(svc: Service, issued_on: date) -> date:
    return workdays.add_working_days(issued_on, supplement_days(svc))


def how(material: Material) -> tuple[str, str]:
    """How to supply a material, in Chinese and English (the catalog writes `中文 / English`)."""
    raw = material.how_to_supply or "在 App 内上传 / upload in the app"
    zh, sep, en = raw.partition(" / ")
    return zh.strip(), (en.strip() if sep else "upload in the app")
