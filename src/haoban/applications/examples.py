"""OpenAPI examples for applications."""

from __future__ import annotations

from typing import Any

CREATE_EXAMPLE: dict[str, Any] = {"service_code": "hpf.withdraw.rent", "inputs": {}}

PAID_EXAMPLE: dict[str, Any] = {
    "application_id": "0193a4c2-7b1e-7c3d-9a2b-3f4e5d6c7b8a",
    "service_code": "hpf.withdraw.rent",
    "status": "paid",
    "created_at": "2026-11-28T10:30:00Z",
    "updated_at": "2026-11-28T10:30:01Z",
    "decision": {
        "decision_id": "0193a4c2-7b1e-7c3d-9a2b-000000000001",
        "outcome": "approve",
        "rule_set_version": "hpf.withdraw.rent@2026.1",
        "amount_fen": 1_800_000,
        "reasons": [],
        "trace": [
            {
                "rule_id": "no_property_in_city",
                "inputs": {"estate.properties": []},
                "passed": True,
                "message_zh": "本市无自有住房",
                "message_en": "No own property in the city",
                "reason": None,
                "result_zh": "符合",
                "result_en": "Met",
            }
        ],
    },
    "payout": {
        "payout_id": "0193a4c2-7b1e-7c3d-9a2b-000000000002",
        "amount_fen": 1_800_000,
        "status": "settled",
        "bank_card_masked": "6222 **** **** 1234",
    },
}

REFUSED_EXAMPLE: dict[str, Any] = {
    "application_id": "0193a4c2-7b1e-7c3d-9a2b-3f4e5d6c7b8b",
    "service_code": "hpf.withdraw.rent",
    "status": "rejected",
    "status_reason": "owns_property_in_city",
    "created_at": "2026-11-28T10:30:00Z",
    "updated_at": "2026-11-28T10:30:00Z",
    "decision": {
        "decision_id": "0193a4c2-7b1e-7c3d-9a2b-000000000003",
        "outcome": "reject",
        "rule_set_version": "hpf.withdraw.rent@2026.1",
        "reasons": ["owns_property_in_city"],
        "trace": [
            {
                "rule_id": "no_property_in_city",
                "inputs": {"estate.properties": [{"city": "郑州"}]},
                "passed": False,
                "message_zh": "本市有自有住房",
                "message_en": "Owns property in the city",
                "reason": "owns_property_in_city",
                "result_zh": "不符合",
                "result_en": "Not met",
            }
        ],
    },
}

DETAIL_EXAMPLE: dict[str, Any] = {
    **PAID_EXAMPLE,
    "history": [
        {
            "from_status": None,
            "to_status": "submitted",
            "actor_type": "citizen",
            "reason": None,
            "occurred_at": "2026-11-28T10:30:00Z",
        },
        {
            "from_status": "submitted",
            "to_status": "approved",
            "actor_type": "system",
            "reason": None,
            "occurred_at": "2026-11-28T10:30:00Z",
        },
        {
            "from_status": "approved",
            "to_status": "paid",
            "actor_type": "system",
            "reason": None,
            "occurred_at": "2026-11-28T10:30:01Z",
        },
    ],
}

NOTIFICATIONS_EXAMPLE: dict[str, Any] = {
    "notifications": [
        {
            "id": 42,
            "reference": "application:0193a4c2-7b1e-7c3d-9a2b-3f4e5d6c7b8a:paid",
            "application_id": "0193a4c2-7b1e-7c3d-9a2b-3f4e5d6c7b8a",
            "status": "paid",
            "title_zh": "提取已到账",
            "title_en": "Money sent",
            "body_zh": "您的「无房租房提取住房公积金」款项已转入您的银行卡。",
            "body_en": "Your Housing fund withdrawal for rent (no own property) money was paid to your bank card.",
            "created_at": "2026-11-28T10:30:01Z",
            "delivered_at": "2026-11-28T10:30:01Z",
        }
    ],
    "next_before": None,
}
