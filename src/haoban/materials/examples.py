"""OpenAPI examples, built from the real types and texts so they are exactly what the server sends."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import msgspec

from haoban.catalog.data import BY_CODE
from haoban.materials import letters, requirements, workdays
from haoban.materials.schemas import (
    Acceptance,
    ChecklistItem,
    Letter,
    LetterList,
    Material,
    MaterialsStatus,
    MissingItem,
    Notice,
    Signature,
    Uploaded,
)

_APP = UUID("0b9d6a52-3c1e-4f0a-9b8e-0000000000a1")
_AT = datetime(2026, 11, 27, 2, 30, tzinfo=UTC)
_SERVICE = BY_CODE["housing.public_rental.apply"]
_UPLOADS = requirements.uploads(_SERVICE)
_SECONDARY = [m for m in _UPLOADS if not m.primary]
_DEADLINE = requirements.supplement_deadline(_SERVICE, date(2026, 11, 27))

_MATERIAL = Material(
    material_id=UUID("5e2f0c1a-7b3d-4e8f-a1b2-0000000000c1"),
    code="income_proof",
    content_type="image/jpeg",
    size_bytes=482113,
    sha256="9f2c4a6b8d0e1f3a5c7e9b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b7d9f1a",
    trust_level="C",
    uploaded_at=_AT,
)
_NOTICE = Notice(
    notice_id=UUID("7a1c2e3f-4b5d-4c6e-8f9a-0000000000d1"),
    application_id=_APP,
    missing=[
        MissingItem(
            code=m.code,
            name_zh=m.name_zh,
            name_en=m.name_en,
            how_zh=requirements.how(m)[0],
            how_en=requirements.how(m)[1],
        )
        for m in _SECONDARY
    ],
    deadline=_DEADLINE,
    deadline_at=workdays.end_of_day(_DEADLINE).astimezone(UTC),
    text_zh=letters.notice_texts(_SERVICE, _SECONDARY, _DEADLINE)[0],
    text_en=letters.notice_texts(_SERVICE, _SECONDARY, _DEADLINE)[1],
    issued_at=_AT,
    status="open",
)


def _builtins(value: Any) -> Any:
    return msgspec.json.decode(msgspec.json.encode(value))


UPLOADED_EXAMPLE = _builtins(Uploaded(material=_MATERIAL, application_status="submitted"))
ACCEPTANCE_EXAMPLE = _builtins(
    Acceptance(application_id=_APP, status="pending_materials", accepted="tolerant", notice=_NOTICE)
)
STATUS_EXAMPLE = _builtins(
    MaterialsStatus(
        application_id=_APP,
        status="pending_materials",
        checklist=[
            ChecklistItem(
                code=m.code,
                name_zh=m.name_zh,
                name_en=m.name_en,
                primary=m.primary,
                how_zh=requirements.how(m)[0],
                how_en=requirements.how(m)[1],
                supplied=m.primary,
            )
            for m in _UPLOADS
        ],
        materials=[_MATERIAL],
        signatures=[
            Signature(
                kind=kind,
                version=letters.VERSION,
                text_sha256=letters.sha256(kind),
                consent_id=UUID("3c4d5e6f-7a8b-4c9d-8e0f-0000000000e1") if kind == "authorization" else None,
                signed_at=_AT,
            )
            for kind in letters.KINDS
        ],
        notice=_NOTICE,
    )
)
LETTERS_EXAMPLE = _builtins(
    LetterList(
        letters=[
            Letter(
                kind=kind,
                version=letters.VERSION,
                text_zh=letters.text(kind)[0],
                text_en=letters.text(kind)[1],
                text_sha256=letters.sha256(kind),
            )
            for kind in letters.KINDS
        ]
    )
)
