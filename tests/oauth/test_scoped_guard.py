"""Delegated principals: scopes are exactly what was approved, and never count as a recent face verification."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from haoban.identity.stepup import StepUpRequired, require_recent_face
from haoban.oauth.guard import delegated_principal
from haoban.tokens.guard import InsufficientScope, require_scope
from haoban.tokens.schemas import Principal


def _principal() -> tuple[Principal, datetime]:
    now = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    claims = {
        "client_id": "demo-miniprogram",
        "scope": "openid hpf.read",
        "jti": "j1",
        "acr": "urn:haoban:loa:face",  # the approval was face-verified a second ago
        "amr": ["face"],
    }
    principal = delegated_principal(claims, citizen_id=uuid.uuid4(), session_id=uuid.uuid4(), auth_time=now)
    return principal, now


def test_a_delegated_token_never_passes_the_face_step_up() -> None:
    principal, now = _principal()
    with pytest.raises(StepUpRequired):
        require_recent_face(principal, now)


def test_a_delegated_token_has_only_its_approved_scopes() -> None:
    principal, _now = _principal()
    require_scope(principal, "hpf.read")
    with pytest.raises(InsufficientScope):
        require_scope(principal, "applications.write")
