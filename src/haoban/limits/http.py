"""The source address of a request, for per-address limits.

The ASGI peer is the address unless it is a trusted proxy (HAOBAN_TRUSTED_PROXIES);
only then is X-Forwarded-For read, right to left, skipping trusted hops. Without
that setting the header is ignored, since any client can send it.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from litestar import Request
from litestar.datastructures import State

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(trusted: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(t, strict=False) for t in trusted)


def _trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in n for n in networks)


def source_address(peer: str | None, forwarded_for: str | None, trusted: tuple[str, ...]) -> str:
    """Pure: the client's address given the peer, the X-Forwarded-For header and the trusted proxies."""
    peer = peer or "unknown"
    networks = _networks(trusted)
    if not networks or not forwarded_for or not _trusted(peer, networks):
        return peer
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, networks):
            return hop
    return hops[0] if hops else peer


def request_address(request: Request[object, object, State], trusted: tuple[str, ...]) -> str:
    peer = request.client.host if request.client is not None else None
    return source_address(peer, request.headers.get("x-forwarded-for"), trusted)
