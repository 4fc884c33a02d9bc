"""Typed domain errors: each carries its HTTP status and a stable code."""

from __future__ import annotations

from typing import Any, ClassVar

import msgspec


class FieldError(msgspec.Struct, frozen=True, kw_only=True):
    """One invalid input: where it came from, which field, and why.

    `reason` is in the language the request picked; `reason_zh` and `reason_en`
    carry both. They are filled from the message catalogue when rendered.
    """

    field: str
    reason: str
    source: str = "body"
    reason_zh: str = ""
    reason_en: str = ""


class AppError(Exception):
    """Base of every error we raise on purpose; rendered as problem+json."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or self.code)
        self.detail = detail
        self.errors = errors or []
        self.headers = headers or {}
        self.extra = extra or {}


class BadRequest(AppError):
    status = 400
    code = "bad_request"


class MalformedBody(AppError):
    status = 400
    code = "malformed_body"


class Unauthorized(AppError):
    status = 401
    code = "unauthorized"


class InvalidToken(Unauthorized):
    code = "invalid_token"


class Forbidden(AppError):
    status = 403
    code = "forbidden"


class NotFound(AppError):
    status = 404
    code = "not_found"


class Conflict(AppError):
    status = 409
    code = "conflict"


class UnsupportedMediaType(AppError):
    status = 415
    code = "unsupported_media_type"


class ValidationFailed(AppError):
    status = 422
    code = "validation_failed"


class TooManyRequests(AppError):
    status = 429
    code = "too_many_requests"


class Unavailable(AppError):
    status = 503
    code = "service_unavailable"
