"""The scope catalogue: what a citizen can delegate, and what only a department system can hold.

Citizen scopes are approved by a citizen (authorization code) and count as
held by every first-party token. Ingest scopes (`ingest.<source>`) are for
confidential clients' client-credentials tokens only: no citizen can grant them,
and a first-party token never holds them.
"""

from __future__ import annotations

from haoban.settings import SOURCE_NAMES

CITIZEN_SCOPES: tuple[str, ...] = (
    "openid",
    "profile",
    "identity.verified",
    "hpf.read",
    "applications.read",
    "applications.write",
)
INGEST_PREFIX = "ingest."
INGEST_SCOPES: tuple[str, ...] = tuple(INGEST_PREFIX + source for source in SOURCE_NAMES)
CONFIDENTIAL_ONLY_SCOPES = frozenset(INGEST_SCOPES)


def ingest_scope(source: str) -> str:
    return INGEST_PREFIX + source
