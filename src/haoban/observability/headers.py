"""Security headers on every response, set in one place (the request middleware).

- `X-Content-Type-Options: nosniff` everywhere: a browser never sniffs a JSON answer into HTML.
- `Referrer-Policy: no-referrer`: URLs here can carry ids; they are not passed on.
- `Cache-Control: no-store` unless the route chose its own policy: nearly every answer
  is personal data or a credential (`/v1/me/*`, `/v1/auth/*`, `/oauth/*`), and an API
  that caches by default leaks the next person's data on a shared device or proxy.
  The docs page and its assets keep their own (public) policy.
- `Strict-Transport-Security` when the issuer is https (the deployment is served over TLS).
"""

from __future__ import annotations

from collections.abc import Iterable

HSTS = b"max-age=63072000; includeSubDomains"
_ALWAYS = ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"))
_DEFAULTS = ((b"cache-control", b"no-store"),)


def with_security_headers(headers: Iterable[tuple[bytes, bytes]], *, hsts: bool) -> list[tuple[bytes, bytes]]:
    out = [(name, value) for name, value in headers if name.lower() not in {n for n, _ in _ALWAYS}]
    present = {name.lower() for name, _ in out}
    out.extend(_ALWAYS)
    out.extend((name, value) for name, value in _DEFAULTS if name not in present)
    if hsts and b"strict-transport-security" not in present:
        out.append((b"strict-transport-security", HSTS))
    return out
