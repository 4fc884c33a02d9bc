"""Step-up: sensitive actions need a face verification within the last five minutes."""

from __future__ import annotations

from datetime import datetime, timedelta

from haoban.kit.errors import Unauthorized
from haoban.tokens.schemas import Principal

STEP_UP_MAX_AGE = timedelta(minutes=5)
FACE_ACR = "urn:haoban:loa:face"


class StepUpRequired(Unauthorized):
    code = "step_up_required"


def require_recent_face(principal: Principal, now: datetime) -> None:
    """Payouts, bank-card changes and OAuth consent call this first."""
    if "face" not in principal.amr or principal.acr != FACE_ACR:
        raise StepUpRequired(
            "This action needs a face verification.", headers={"WWW-Authenticate": 'Bearer error="step_up_required"'}
        )
    if now - principal.auth_time > STEP_UP_MAX_AGE:
        raise StepUpRequired(
            "Verify your face again: the last verification is older than five minutes.",
            headers={"WWW-Authenticate": 'Bearer error="step_up_required", max_age=300'},
        )
