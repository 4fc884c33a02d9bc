"""OpenAPI helpers: every route lists its problem+json errors and an example of its success body."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from litestar import Litestar
from litestar.enums import RequestEncodingType
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example, SecurityRequirement

from haoban.kit.messages import TITLES, details, titles
from haoban.kit.problems import PROBLEM_JSON, TYPE_PREFIX, Problem
from haoban.kit.reasons import translate

PUBLIC: Final[list[SecurityRequirement]] = [{}]
"""`security=PUBLIC` marks a route anyone may call.

The document's default is the bearer token. Litestar drops `security=[]` (it is
falsy), so such a route would silently inherit bearer; `[{}]` is the one
requirement that needs no scheme, and it is what the contract test accepts.
"""

_DEFAULT_CODE: dict[int, str] = {
    400: "malformed_body",
    401: "invalid_token",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "too_many_requests",
    500: "internal_error",
    503: "service_unavailable",
}


def _example(status: int, code: str) -> dict[str, Any]:
    """The body a client gets with no Accept-Language (Chinese), both languages alongside."""
    title_zh, title_en = titles(code)
    detail_zh, detail_en = details(code)
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + code,
        "title": title_zh,
        "status": status,
        "code": code,
        "detail": detail_zh,
        "title_zh": title_zh,
        "title_en": title_en,
        "detail_zh": detail_zh,
        "detail_en": detail_en,
        "request_id": "3f1c2a9e8b7d4c5a",
    }
    if code == "validation_failed":
        zh, en = translate("Object missing required field `refresh_token`")
        body["errors"] = [{"field": "refresh_token", "reason": zh, "source": "body", "reason_zh": zh, "reason_en": en}]
    return body


Codes = str | tuple[str, ...]


def _spec(status: int, codes: tuple[str, ...]) -> ResponseSpec:
    return ResponseSpec(
        data_container=Problem,
        description=_description(codes),
        media_type=PROBLEM_JSON,
        examples=[Example(summary=code, value=_example(status, code)) for code in codes],
        generate_examples=False,
    )


def _description(codes: tuple[str, ...]) -> str:
    titles = "; ".join(f"{TITLES.get(code, (code, code))[1]} (`{code}`)" for code in codes)
    return f"{titles} (application/problem+json)"


def problems(*statuses: int, codes: Mapping[int, Codes] | None = None) -> dict[int, ResponseSpec]:
    """Problem responses for these statuses, plus 500 which any route can return.

    `codes` names the problem `code`s a status can carry (one, or a tuple of several);
    each becomes an example. `document_framework_problems` adds the ones every route of a
    kind can give (malformed bodies, validation, a missing token).
    """
    out: dict[int, ResponseSpec] = {}
    for status in (*statuses, 500):
        given = (codes or {}).get(status, _DEFAULT_CODE.get(status, "bad_request"))
        out[status] = _spec(status, (given,) if isinstance(given, str) else given)
    return out


JSON_BODY_PROBLEMS: Final[dict[int, str]] = {
    400: "malformed_body",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
}
"""What `haoban.kit.decoding` and Litestar answer for any JSON body: every such route can return these."""

FORM_BODY_PROBLEMS: Final[dict[int, str]] = {400: "bad_request", 413: "payload_too_large", 422: "validation_failed"}
RAW_BODY_PROBLEMS: Final[dict[int, str]] = {413: "payload_too_large"}
PARAMETER_PROBLEMS: Final[dict[int, str]] = {422: "validation_failed"}
"""A query, path or header parameter that does not validate (a pattern, a bound, a missing one)."""


def add_problem(responses: dict[int, ResponseSpec], status: int, code: str) -> None:
    """Document `code` under `status`: a new problem response, or one more example of an existing one."""
    spec = responses.get(status)
    if spec is None:
        responses[status] = _spec(status, (code,))
        return
    if spec.data_container is not Problem:
        return
    examples = list(spec.examples or [])
    if any(e.summary == code for e in examples):
        return
    examples.append(Example(summary=code, value=_example(status, code)))
    spec.examples = examples
    spec.description = _description(tuple(str(e.summary) for e in examples))


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


_RESERVED_KWARGS = frozenset({"request", "state", "scope", "headers", "cookies", "query", "body", "data", "socket"})


def framework_problems(handler: HTTPRouteHandler) -> dict[int, str]:
    """The problems any handler of this shape can return before its own code runs."""
    out: dict[int, str] = {}
    parameters = handler.parsed_fn_signature.parameters
    data = parameters.get("data")
    if data is not None:
        kwarg = data.kwarg_definition
        media = getattr(kwarg, "media_type", None) or RequestEncodingType.JSON
        out.update(JSON_BODY_PROBLEMS if media == RequestEncodingType.JSON else FORM_BODY_PROBLEMS)
    dependencies = set(handler.resolve_dependencies())
    if set(parameters) - _RESERVED_KWARGS - dependencies:
        out.update(PARAMETER_PROBLEMS)
    if handler.resolve_security() != PUBLIC:  # none set: the document's default, the bearer token
        out[401] = "unauthorized"
    if any(getattr(guard, "rate_limited", False) for guard in handler.resolve_guards()):
        out[429] = "rate_limited"
    return out


def document_framework_problems(app: Litestar) -> None:
    """Add to every documented route the problems its shape can give (`framework_problems`)."""
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            if not isinstance(handler, HTTPRouteHandler) or not handler.resolve_include_in_schema():
                continue
            responses = dict(handler.responses or {})
            for status, code in framework_problems(handler).items():
                add_problem(responses, status, code)
            if 500 not in responses:
                add_problem(responses, 500, "internal_error")
            handler.responses = responses
