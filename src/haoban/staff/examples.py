"""OpenAPI examples for the staff routes, built from the real types so they are exactly what is sent."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec

from haoban.staff.schemas import (
    DecisionResult,
    Grant,
    HistoryEntry,
    MaterialMeta,
    QueueItem,
    QueuePage,
    StaffApplication,
    StaffProfile,
    StaffToken,
)

_STAFF = UUID("2f6b1c9e-8d4a-4e3b-9c1d-0000000000b1")
_APP = UUID("0b9d6a52-3c1e-4f0a-9b8e-0000000000a1")
_AT = datetime(2026, 11, 27, 2, 30, tzinfo=UTC)
_LATER = datetime(2026, 11, 28, 1, 15, tzinfo=UTC)


def _builtins(value: Any) -> Any:
    return msgspec.json.decode(msgspec.json.encode(value))


LOGIN_REQUEST = {"username": "li.reviewer", "password": "correct horse battery staple"}
TOKEN_EXAMPLE = _builtins(
    StaffToken(
        access_token="eyJhbGciOiJFUzI1NiIsImtpZCI6Ii4uLiIsInR5cCI6ImF0K2p3dCJ9...",  # noqa: S106 (an example)
        token_type="Bearer",  # noqa: S106 (a token type, not a secret)
        expires_in=600,
        staff=StaffProfile(
            staff_id=_STAFF,
            username="li.reviewer",
            display_name="李审核",
            roles=[Grant(department="housing_security", role="reviewer")],
        ),
    )
)
QUEUE_EXAMPLE = _builtins(
    QueuePage(
        items=[
            QueueItem(
                application_id=_APP,
                service_code="housing.public_rental.apply",
                department="housing_security",
                status="pending_review",
                applicant="格**",
                submitted_at=_AT,
                updated_at=_LATER,
            )
        ],
        next_after=None,
    )
)
APPLICATION_EXAMPLE = _builtins(
    StaffApplication(
        application_id=_APP,
        service_code="housing.public_rental.apply",
        department="housing_security",
        status="pending_review",
        status_reason="materials_supplied",
        applicant="格**",
        inputs={"household_size": 2, "monthly_income_fen": 180000},
        submitted_at=_AT,
        updated_at=_LATER,
        decision={
            "outcome": "review",
            "rule_set_version": "housing.public_rental.apply@2026-01-01",
            "amount_fen": None,
            "reasons": ["manual_review"],
            "trace": [
                {
                    "rule_id": "no_property",
                    "inputs": {"estate.properties": []},
                    "passed": True,
                    "message_zh": "本市无自有住房",
                    "message_en": "No property in the city",
                    "reason": None,
                }
            ],
            "close_account": False,
        },
        facts={
            "estate.properties": {
                "value": [],
                "source": "estate",
                "system": "不动产登记中心",
                "trust_level": "A",
                "last_updated": "2026-11-20T08:00:00Z",
                "missing": None,
            }
        },
        materials=[
            MaterialMeta(
                material_id=UUID("5e2f0c1a-7b3d-4e8f-a1b2-0000000000c1"),
                code="income_proof",
                content_type="image/jpeg",
                size_bytes=482113,
                sha256="9f2c4a6b8d0e1f3a5c7e9b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b7d9f1a",
                trust_level="C",
                uploaded_at=_AT,
            )
        ],
        missing_materials=[],
        notice=None,
        history=[
            HistoryEntry(
                from_status=None,
                to_status="submitted",
                actor_type="citizen",
                actor_id="7d0b6a52-3c1e-4f0a-9b8e-000000000001",
                reason=None,
                occurred_at=_AT,
            ),
            HistoryEntry(
                from_status="submitted",
                to_status="pending_review",
                actor_type="citizen",
                actor_id="7d0b6a52-3c1e-4f0a-9b8e-000000000001",
                reason="materials_complete",
                occurred_at=_LATER,
            ),
        ],
    )
)
DECISION_REQUEST = {"decision": "approve", "reason": "收入、住房情况与申报一致，符合保障条件"}
DECISION_EXAMPLE = _builtins(
    DecisionResult(
        application_id=_APP,
        status="approved",
        decision="approve",
        reason="收入、住房情况与申报一致，符合保障条件",
        decided_by="li.reviewer",
        decided_at=_LATER,
    )
)
