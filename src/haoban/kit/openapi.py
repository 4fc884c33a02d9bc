"""OpenAPI helpers: every route lists its problem+json errors and an example of its success body."""

from __future__ import annotations

from typing import Any, Final

from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example, SecurityRequirement

from haoban.kit.messages import TITLES
from haoban.kit.problems import PROBLEM_JSON, TYPE_PREFIX, Problem

PUBLIC: Final[list[SecurityRequirement]] = [{}]
"""`security=PUBLIC` marks a route anyone may call.

The document's default is the bearer token. Litestar drops `security=[]` (it is
falsy), so such a route would silently inherit bearer; `[{}]` is the one
requirement that needs no scheme, and it is what the contract test accepts.
"""

_DEFAULT_CODE = {
    400: "malformed_body",
    401: "invalid_token",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    422: "validation_failed",
    429: "too_many_requests",
    500: "internal_error",
    503: "service_unavailable",
}


def _example(status: int, code: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + code,
        "title": TITLES.get(code, (code, code))[1],
        "status": status,
        "code": code,
        "request_id": "3f1c2a9e8b7d4c5a",
    }
    if code == "validation_failed":
        body["errors"] = [{"field": "refresh_token", "reason": "Object missing required field", "source": "body"}]
    return body


def problems(*statuses: int, codes: dict[int, str] | None = None) -> dict[int, ResponseSpec]:
    """Problem responses for these statuses, plus 500 which any route can return."""
    out: dict[int, ResponseSpec] = {}
    for status in (*statuses, 500):
        code = (codes or {}).get(status, _DEFAULT_CODE.get(status, "bad_request"))
        out[status] = ResponseSpec(
            data_container=Problem,
            description=f"{TITLES.get(code, (code, code))[1]} (application/problem+json)",
            media_type=PROBLEM_JSON,
            examples=[Example(summary=code, value=_example(status, code))],
            generate_examples=False,
        )
    return out


def example(summary: str, value: Any) -> list[Example]:
    return [Example(summary=summary, value=value)]


def success(status: int, data_container: Any, description: str, examples: list[Example]) -> dict[int, ResponseSpec]:
    """Document a success response with an example.

    Litestar's generated success response has no example; an entry under the same
    status in `responses=` replaces it. `data_container` must be the type the
    handler returns; the contract test decodes each example into it.
    """
    return {
        status: ResponseSpec(
            data_container=data_container,
            description=description,
            examples=examples,
            generate_examples=False,
        )
    }
