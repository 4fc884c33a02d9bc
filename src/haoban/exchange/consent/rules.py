"""Which requested items a set of consents does not cover (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import msgspec


class ConsentGrant(msgspec.Struct, frozen=True, kw_only=True):
    purpose_kind: str
    purpose_ref: str
    items: tuple[str, ...]
    expires_at: datetime | None
    revoked_at: datetime | None


def covers(grant: ConsentGrant, item: str) -> bool:
    source = item.partition(".")[0]
    return item in grant.items or f"{source}.*" in grant.items


def missing_items(
    grants: Iterable[ConsentGrant], *, purpose_kind: str, purpose_ref: str, items: Iterable[str], now: datetime
) -> list[str]:
    live = [
        g
        for g in grants
        if g.purpose_kind == purpose_kind
        and g.purpose_ref == purpose_ref
        and g.revoked_at is None
        and (g.expires_at is None or g.expires_at > now)
    ]
    return [item for item in items if not any(covers(g, item) for g in live)]
