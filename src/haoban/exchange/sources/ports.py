"""One typed port per source system.

Each port has two adapters: the shared-data front-end database (`frontdb.py`)
and a real-time HTTP API (`http_source.py`). Adapters raise `SourceUnavailable`
for anything that is not an answer; "no record" is an answer (None or []).
"""

from __future__ import annotations

from typing import Generic, Protocol, TypeVar

import msgspec

from haoban.exchange.sources.records import (
    HouseholdRecord,
    HousingFundRecord,
    IdentityRecord,
    MarriageRecord,
    PropertyRecord,
    SocialSecurityRecord,
)

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class SourceUnavailable(Exception):
    """The source could not be asked or did not answer usably.

    `reason` is a stable code: timeout, circuit_open, http_error, bad_response,
    database_error.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class Fetched(msgspec.Struct, Generic[T], frozen=True, kw_only=True):
    """An answer from a source: the record (None/[] = no record) and the hash of the raw response."""

    record: T
    response_hash: str
    system: str


class IdentitySource(Protocol):
    async def lookup(self, id_number: str) -> Fetched[IdentityRecord | None]: ...

    async def photo(self, id_number: str) -> bytes | None:
        """The authoritative ID photo, for 1:1 face matching only."""
        ...


class HouseholdSource(Protocol):
    async def lookup(self, id_number: str) -> Fetched[HouseholdRecord | None]: ...


class HousingFundSource(Protocol):
    async def lookup(self, id_number: str) -> Fetched[HousingFundRecord | None]: ...


class EstateSource(Protocol):
    async def properties_of(self, id_number: str) -> Fetched[list[PropertyRecord]]: ...


class MarriageSource(Protocol):
    async def lookup(self, id_number: str) -> Fetched[MarriageRecord | None]: ...


class SocialSecuritySource(Protocol):
    async def lookup(self, id_number: str) -> Fetched[SocialSecurityRecord | None]: ...


class Sources(msgspec.Struct, frozen=True, kw_only=True):
    """The adapters in use, chosen once in the composition root."""

    identity: IdentitySource
    household: HouseholdSource
    housing_fund: HousingFundSource
    estate: EstateSource
    marriage: MarriageSource
    social_security: SocialSecuritySource
