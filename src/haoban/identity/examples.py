"""OpenAPI examples for the identity routes."""

from __future__ import annotations

from typing import Any

_ID = "11010519491231002X"
_CHALLENGE = "9b2f6c1e-4d3a-4e8b-a1c7-5f0e2d9b8a61"
_FRAME = "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwc..."

CHALLENGE_CREATE_EXAMPLE: dict[str, Any] = {"id_number": _ID, "purpose": "login"}
CHALLENGE_EXAMPLE: dict[str, Any] = {
    "challenge_id": _CHALLENGE,
    "nonce": "v3T0c2x9Qm1hYmJ6RmZxR0xJdA",
    "expires_at": "2026-11-28T10:32:00Z",
    "min_frames": 3,
    "max_frames": 5,
}
REGISTER_EXAMPLE: dict[str, Any] = {
    "challenge_id": _CHALLENGE,
    "id_number": _ID,
    "name": "张三",
    "phone": "13812345678",
    "frames": [_FRAME, _FRAME, _FRAME],
    "consent": {"biometric": True, "terms_version": "2026-11"},
}
LOGIN_EXAMPLE: dict[str, Any] = {"challenge_id": _CHALLENGE, "id_number": _ID, "frames": [_FRAME, _FRAME, _FRAME]}
STEP_UP_EXAMPLE: dict[str, Any] = {"challenge_id": _CHALLENGE, "frames": [_FRAME, _FRAME, _FRAME]}
TOKENS_EXAMPLE: dict[str, Any] = {
    "citizen_id": "7d0b6a52-3c1e-4f0a-9b8e-000000000001",
    "access_token": "eyJhbGciOiJFUzI1NiIsImtpZCI6Ii4uLiIsInR5cCI6ImF0K2p3dCJ9...",
    "refresh_token": "hbr_x0m1Yf3kQ2bq8Jw7W2VZ0ZxRk7h0qB9Uu4n2b5cF1sE",
    "token_type": "Bearer",
    "expires_in": 600,
    "acr": "urn:haoban:loa:face",
    "refresh_token_expires_at": "2026-12-28T10:30:00Z",
}
OTP_START_EXAMPLE: dict[str, Any] = {"id_number": _ID}
OTP_STARTED_EXAMPLE: dict[str, Any] = {
    "request_id": "0c9d8e7f-6a5b-4c3d-8e2f-1a0b9c8d7e6f",
    "expires_at": "2026-11-28T10:35:00Z",
}
OTP_VERIFY_EXAMPLE: dict[str, Any] = {"request_id": "0c9d8e7f-6a5b-4c3d-8e2f-1a0b9c8d7e6f", "code": "042137"}
PHONE_CHANGE_START_EXAMPLE: dict[str, Any] = {"phone": "13912345678"}
PHONE_CHANGE_STARTED_EXAMPLE: dict[str, Any] = {
    "request_id": "5b6c7d8e-9f0a-4b1c-8d2e-3f4a5b6c7d8e",
    "expires_at": "2026-11-28T10:35:00Z",
    "phone_masked": "139****5678",
}
PHONE_CHANGE_CONFIRM_EXAMPLE: dict[str, Any] = {"request_id": "5b6c7d8e-9f0a-4b1c-8d2e-3f4a5b6c7d8e", "code": "042137"}
PHONE_CHANGED_EXAMPLE: dict[str, Any] = {"phone_masked": "139****5678", "changed_at": "2026-11-28T10:31:00Z"}
REENROLMENT_ALLOWED_EXAMPLE: dict[str, Any] = {"expires_at": "2026-11-28T10:40:00Z"}
