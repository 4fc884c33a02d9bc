"""CORS for the configured H5 origins only (HAOBAN_CORS_ORIGINS), with Litestar's CORSConfig.

Litestar answers a preflight (OPTIONS with Access-Control-Request-Method) in its CORS
middleware, before routing, guards and authentication, so an allowed H5 page never
meets a 401 there. A request from any other origin gets no CORS headers at all, and
the browser keeps the response from the page. Tokens travel in the Authorization
header, never in cookies, so credentials stay off.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import msgspec
from litestar.config.cors import CORSConfig
from litestar.enums import ScopeType
from litestar.status_codes import HTTP_400_BAD_REQUEST

from haoban.kit.problems import PROBLEM_JSON, problem

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

# What an H5 page sends besides the simple headers.
ALLOW_HEADERS: Final = ("Authorization", "Content-Type", "Accept-Language", "Idempotency-Key", "Last-Event-ID")
ALLOW_METHODS: Final = ("GET", "POST", "PUT", "PATCH", "DELETE")
# What it may read besides the simple response headers.
EXPOSE_HEADERS: Final = ("Retry-After", "Location", "X-Request-ID", "Content-Language")
MAX_AGE_S: Final = 600


def cors_config(origins: tuple[str, ...]) -> CORSConfig | None:
    """None when no origin is configured: no CORS headers for anyone."""
    if not origins:
        return None
    return CORSConfig(
        allow_origins=list(origins),
        allow_methods=list(ALLOW_METHODS),
        allow_headers=list(ALLOW_HEADERS),
        expose_headers=list(EXPOSE_HEADERS),
        allow_credentials=False,
        max_age=MAX_AGE_S,
    )


class OnlyConfiguredOrigins:
    """Around the app (and Litestar's CORS middleware inside it).

    - A request from an origin not configured loses its Origin header here, so Litestar
      adds no CORS header at all; a preflight from it is routed like any OPTIONS.
    - A preflight from a configured origin asking for a method or header we do not allow
      gets problem+json, not Litestar's text/plain 400.
    """

    def __init__(self, app: ASGIApp, config: CORSConfig) -> None:
        self.app = app
        self.config = config

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        send = _vary_on_origin(send)
        # Raw, not Headers.from_scope: that caches the headers in the scope for everything inside.
        raw = {name.lower(): value.decode("latin-1") for name, value in scope["headers"]}
        origin = raw.get(b"origin")
        if origin is None:
            await self.app(scope, receive, send)
        elif not self.config.is_origin_allowed(origin):
            stripped = scope.copy()
            stripped["headers"] = [(name, value) for name, value in scope["headers"] if name.lower() != b"origin"]
            await self.app(stripped, receive, send)
        elif scope["method"] == "OPTIONS":
            await self.app(scope, receive, _refusal_as_problem(scope, raw.get(b"accept-language"), send))
        else:
            await self.app(scope, receive, send)


def _vary_on_origin(send: Send) -> Send:
    """Every answer varies by Origin once CORS is on, so a shared cache never hands one origin's to another."""

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers") or [])
            vary = [value for name, value in headers if name.lower() == b"vary"]
            if not any(b"origin" in value.lower() for value in vary):
                headers.append((b"vary", b"Origin"))
            message = {**message, "headers": headers}
        await send(message)

    return wrapped


def _refusal_as_problem(scope: Scope, accept_language: str | None, send: Send) -> Send:
    replaced = False

    async def wrapped(message: Message) -> None:
        nonlocal replaced
        if message["type"] == "http.response.start" and message["status"] == HTTP_400_BAD_REQUEST:
            replaced = True
            body = msgspec.json.encode(
                problem(
                    status=HTTP_400_BAD_REQUEST,
                    code="cors_refused",
                    accept_language=accept_language,
                    instance=scope["path"],
                )
            )
            await send(
                {
                    "type": "http.response.start",
                    "status": HTTP_400_BAD_REQUEST,
                    "headers": [
                        (b"content-type", PROBLEM_JSON.encode()),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body, "more_body": False})
        elif not replaced:
            await send(message)

    return wrapped
