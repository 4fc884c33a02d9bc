"""OpenAPI examples for the exchange routes."""

from __future__ import annotations

from typing import Any

_AT = "2026-11-28T10:30:00Z"
_CITIZEN = "7d0b6a52-3c1e-4f0a-9b8e-000000000001"

CONSENT_CREATE_EXAMPLE: dict[str, Any] = {
    "purpose": {"kind": "self_view"},
    "items": ["identity.*", "housing_fund.*", "estate.*"],
    "terms_version": "2026-11",
}

CONSENT_EXAMPLE: dict[str, Any] = {
    "id": "5f0c2d8e-1b7a-4c3e-9d2f-6a8b1c4e7f90",
    "purpose": {"kind": "self_view", "ref": ""},
    "items": ["identity.*", "housing_fund.*", "estate.*"],
    "terms_version": "2026-11",
    "granted_at": _AT,
    "expires_at": None,
    "revoked_at": None,
    "status": "active",
}

LINKED_EXAMPLE: dict[str, Any] = {
    "citizen_id": _CITIZEN,
    "purpose": {"kind": "self_view", "ref": ""},
    "fetched_at": _AT,
    "sources": [
        {
            "source": "housing_fund",
            "agency": "住房公积金管理中心",
            "status": "ok",
            "system": "frontdb:shared.hpf_accounts",
            "items": {
                "balance_fen": {
                    "value": 3_650_000,
                    "source": "housing_fund",
                    "trust_level": "A",
                    "last_updated": _AT,
                },
                "bank_card": {
                    "value": {"bank_name": "中国工商银行", "card_no": "**** 1234"},
                    "source": "housing_fund",
                    "trust_level": "A",
                    "last_updated": _AT,
                },
            },
        },
        {
            "source": "estate",
            "agency": "不动产登记中心",
            "status": "unavailable",
            "system": None,
            "items": {"properties": {"unavailable": True, "reason": "timeout"}},
        },
    ],
}

ACCESS_LOG_EXAMPLE: dict[str, Any] = {
    "entries": [
        {
            "seq": 42,
            "at": _AT,
            "requester": {"type": "citizen", "id": _CITIZEN},
            "purpose": {"kind": "self_view", "ref": ""},
            "source": "housing_fund",
            "items": ["housing_fund.balance_fen", "housing_fund.status"],
            "outcome": "ok",
        }
    ],
    "next_before": None,
}
