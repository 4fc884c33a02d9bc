"""Render every error as RFC 9457 application/problem+json.

One place maps our `AppError`s and Litestar's own exceptions to a body with a
stable `type` and `code`. Nothing internal (stack, SQL, exception text of a
500) ever reaches the body.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import msgspec
from asyncpg.exceptions import NumericValueOutOfRangeError, StringDataRightTruncationError
from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    MethodNotAllowedException,
    ValidationException,
)
from litestar.types import ExceptionHandlersMap

from haoban.kit.errors import AppError, FieldError
from haoban.kit.messages import details, language, titles
from haoban.kit.reasons import translate

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:haoban:problem:"

log = logging.getLogger("haoban.http")


class Problem(msgspec.Struct, kw_only=True, omit_defaults=True):
    """RFC 9457 problem details, with our stable `code` and field `errors`.

    `title` and `detail` are in the language `Accept-Language` picks (Chinese by
    default); `title_zh`/`title_en`/`detail_zh`/`detail_en` carry both.
    """

    type: str
    title: str
    status: int
    code: str
    detail: str | None = None
    title_zh: str | None = None
    title_en: str | None = None
    detail_zh: str | None = None
    detail_en: str | None = None
    instance: str | None = None
    request_id: str | None = None
    errors: list[FieldError] = []
    extra: dict[str, Any] = {}


def problem_response(
    request: Request[Any, Any, Any],
    *,
    status: int,
    code: str,
    detail: str | None = None,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Response[Problem]:
    """`title`, `detail` and each `reason` in the language of `Accept-Language` (Chinese by default)."""
    body = problem(
        status=status,
        code=code,
        accept_language=request.headers.get("accept-language"),
        instance=request.url.path,
        detail=detail,
        request_id=request.scope.get("state", {}).get("request_id"),
        errors=errors,
        extra=extra,
    )
    return Response(content=body, status_code=status, media_type=PROBLEM_JSON, headers=headers or {})


def problem(
    *,
    status: int,
    code: str,
    accept_language: str | None,
    instance: str,
    detail: str | None = None,
    request_id: str | None = None,
    errors: list[FieldError] | None = None,
    extra: dict[str, Any] | None = None,
) -> Problem:
    """The body of a problem, in both languages and the picked one.

    `detail` is our own specific English text when given; the Chinese detail and
    the fallback English one come from the catalogue.
    """
    en = language(accept_language) == "en"
    title_zh, title_en = titles(code)
    detail_zh, detail_en = details(code)
    if detail and detail != code:
        detail_en = detail
    return Problem(
        type=TYPE_PREFIX + code,
        title=title_en if en else title_zh,
        status=status,
        code=code,
        detail=detail_en if en else detail_zh,
        title_zh=title_zh,
        title_en=title_en,
        detail_zh=detail_zh,
        detail_en=detail_en,
        instance=instance,
        request_id=request_id,
        errors=[_localised(e, en) for e in errors or []],
        extra=extra or {},
    )


def _localised(error: FieldError, en: bool) -> FieldError:
    zh_text, en_text = translate(error.reason, error.field)
    return FieldError(
        field=error.field,
        reason=en_text if en else zh_text,
        source=error.source,
        reason_zh=zh_text,
        reason_en=en_text,
    )


_UNKNOWN = re.compile(r"unknown field `([^`]+)`")
_AT_PATH = re.compile(r"at `\$\.?([^`]*)`")
_MISSING = re.compile(r"missing required field `([^`]+)`")
_MISSING_PARAMETER = re.compile(r"Missing required (header|query|cookie|path) parameter '([^']+)'")


def _source(value: object) -> str:
    """Litestar's `ParamType` is a str Enum: its value, not `ParamType.HEADER`."""
    return str(getattr(value, "value", value) or "body")


def _field_errors(exc: ValidationException) -> list[FieldError]:
    out: list[FieldError] = []
    extra = exc.extra if isinstance(exc.extra, list) else []
    for item in extra:
        if not isinstance(item, dict):
            continue
        message = str(item.get("message", "invalid value"))
        key = str(item.get("key", "") or "")
        source = _source(item.get("source"))
        field = key
        for pattern in (_UNKNOWN, _MISSING):
            if found := pattern.search(message):
                name = found.group(1)
                field = f"{key}.{name}" if key and key not in {"data", ""} else name
        if (found := _AT_PATH.search(message)) and found.group(1):
            field = found.group(1)
        if field in {"data", ""}:
            field = "$"
        out.append(FieldError(field=field, reason=message.split(" - at ", maxsplit=1)[0], source=source))
    if not out and (missing := _MISSING_PARAMETER.search(exc.detail or "")):
        kind, name = missing.groups()
        out.append(FieldError(field=name, reason=f"Missing required {kind} parameter", source=kind))
    if not out:
        out.append(FieldError(field="$", reason=exc.detail or "invalid request"))
    return out


def _on_app_error(request: Request[Any, Any, Any], exc: AppError) -> Response[Problem]:
    return problem_response(
        request,
        status=exc.status,
        code=exc.code,
        detail=exc.detail,
        errors=exc.errors,
        headers=exc.headers,
        extra=exc.extra,
    )


def _on_validation(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Problem]:
    return problem_response(
        request,
        status=422,
        code="validation_failed",
        errors=_field_errors(exc),
    )


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
    503: "service_unavailable",
}


def _on_http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Problem]:
    status = exc.status_code
    if status >= 500:
        return _on_crash(request, exc)
    code = _HTTP_CODES.get(status, "bad_request")
    detail: str | None = None
    if status == 400:
        # Litestar raises a bare 400 when the body is not decodable JSON.
        code = "malformed_body"
        detail = "The request body could not be parsed as JSON."
    elif isinstance(exc, MethodNotAllowedException):
        detail = f"{request.method} is not allowed here."
    headers = {k: v for k, v in (exc.headers or {}).items() if k.lower() in {"allow", "retry-after"}}
    return problem_response(request, status=status, code=code, detail=detail, headers=headers)


def _on_value_out_of_range(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    """The database refused a value as too large or too long for its column: the input's fault, a 422.

    Request types should bound every value to its column (and the log says which did
    not, so the bound gets added); this keeps a missed bound from being a 500.
    """
    log.warning("value out of range for its column", exc_info=exc, extra={"path": request.url.path})
    return problem_response(
        request,
        status=422,
        code="validation_failed",
        detail="A value is out of range for what it is stored as.",
        errors=[FieldError(field="$", reason="A number is too large or a text too long for its field")],
    )


def _on_crash(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    log.error("unhandled error", exc_info=exc, extra={"path": request.url.path})
    return problem_response(request, status=500, code="internal_error")


def exception_handlers() -> ExceptionHandlersMap:
    return {
        AppError: _on_app_error,
        ValidationException: _on_validation,
        HTTPException: _on_http,
        NumericValueOutOfRangeError: _on_value_out_of_range,
        StringDataRightTruncationError: _on_value_out_of_range,
        Exception: _on_crash,
    }
