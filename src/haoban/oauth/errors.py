"""OAuth errors: RFC 6749 §5.2 `error`/`error_description` inside an RFC 9457 problem.

Every error of the API is problem+json; OAuth clients read `error`. The body
carries both, so Authlib and our own clients each find what they look for.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response
from litestar.types import ExceptionHandlersMap

from haoban.kit.errors import AppError
from haoban.kit.messages import details, language, titles
from haoban.kit.problems import PROBLEM_JSON, TYPE_PREFIX

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class OAuthProblem(msgspec.Struct, kw_only=True, omit_defaults=True):
    type: str
    title: str
    status: int
    code: str
    error: str
    error_description: str | None = None
    detail: str | None = None
    title_zh: str | None = None
    title_en: str | None = None
    detail_zh: str | None = None
    detail_en: str | None = None
    instance: str | None = None
    request_id: str | None = None


class OAuthError(AppError):
    status = 400
    code = "invalid_request"


class InvalidRequest(OAuthError):
    code = "invalid_request"


class InvalidClient(OAuthError):
    status = 401
    code = "invalid_client"


class InvalidGrant(OAuthError):
    code = "invalid_grant"


class UnauthorizedClient(OAuthError):
    code = "unauthorized_client"


class UnsupportedGrantType(OAuthError):
    code = "unsupported_grant_type"


class UnsupportedResponseType(OAuthError):
    code = "unsupported_response_type"


class InvalidScope(OAuthError):
    code = "invalid_scope"


class InvalidRedirectUri(OAuthError):
    """Never redirected to: the URI is not one the client registered."""

    code = "invalid_redirect_uri"

    @property
    def error(self) -> str:
        return "invalid_request"


def single_valued(form: dict[str, str | list[str]]) -> dict[str, str]:
    """RFC 6749 §3.1: a parameter sent more than once is invalid_request."""
    repeated = sorted(k for k, v in form.items() if isinstance(v, list))
    if repeated:
        raise InvalidRequest(f"Parameters sent more than once: {', '.join(repeated)}.")
    return {k: v for k, v in form.items() if isinstance(v, str)}


def oauth_response(request: Request[Any, Any, Any], exc: OAuthError) -> Response[OAuthProblem]:
    error = getattr(exc, "error", exc.code)
    headers = {**NO_STORE, **exc.headers}
    if exc.status == 401:
        headers.setdefault("WWW-Authenticate", 'Basic realm="haoban"')
    # error_description stays the English text RFC 6749 means for developers.
    en = language(request.headers.get("accept-language")) == "en"
    title_zh, title_en = titles(exc.code)
    detail_zh, detail_en = details(exc.code)
    detail_en = exc.detail or detail_en
    body = OAuthProblem(
        type=TYPE_PREFIX + exc.code,
        title=title_en if en else title_zh,
        status=exc.status,
        code=exc.code,
        error=error if isinstance(error, str) else exc.code,
        error_description=exc.detail,
        detail=detail_en if en else detail_zh,
        title_zh=title_zh,
        title_en=title_en,
        detail_zh=detail_zh,
        detail_en=detail_en,
        instance=request.url.path,
        request_id=request.scope.get("state", {}).get("request_id"),
    )
    return Response(content=body, status_code=exc.status, media_type=PROBLEM_JSON, headers=headers)


EXCEPTION_HANDLERS: ExceptionHandlersMap = {OAuthError: oauth_response}
