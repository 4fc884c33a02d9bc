"""Adapters for the shared-data front-end database (前置库).

Departments fill tables in schema `shared`; these adapters read them through a
pool of their own (the front-end database is usually another server), so the
six sources can be asked concurrently without touching the request's
transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg
import msgspec

from haoban.exchange.sources import repository as repo
from haoban.exchange.sources.ports import Fetched, Sources, SourceUnavailable
from haoban.exchange.sources.records import (
    HouseholdRecord,
    HousingFundRecord,
    IdentityRecord,
    MarriageRecord,
    PropertyRecord,
    SocialSecurityRecord,
)

T = TypeVar("T")


def response_hash(value: object) -> str:
    return hashlib.sha256(msgspec.json.encode(value)).hexdigest()


class _FrontDb:
    def __init__(self, pool: asyncpg.Pool, table: str) -> None:
        self._pool = pool
        self._system = f"frontdb:shared.{table}"

    async def _ask(self, query: Callable[[asyncpg.Pool, str], Awaitable[T]], id_number: str) -> Fetched[T]:
        try:
            record = await query(self._pool, id_number)
        except (asyncpg.PostgresError, OSError, asyncpg.InterfaceError) as exc:
            raise SourceUnavailable("database_error", type(exc).__name__) from exc
        except msgspec.ValidationError as exc:  # a label outside the closed sets (exchange.vocab)
            raise SourceUnavailable("bad_record", str(exc)) from exc
        return Fetched(record=record, response_hash=response_hash(record), system=self._system)


class FrontDbIdentity(_FrontDb):
    def __init__(self, pool: asyncpg.Pool) -> None:
        super().__init__(pool, "identities")

    async def lookup(self, id_number: str) -> Fetched[IdentityRecord | None]:
        return await self._ask(repo.identity, id_number)

    async def photo(self, id_number: str) -> bytes | None:
        try:
            return await repo.identity_photo(self._pool, id_number)
        except (asyncpg.PostgresError, OSError, asyncpg.InterfaceError) as exc:
            raise SourceUnavailable("database_error", type(exc).__name__) from exc


class FrontDbHousehold(_FrontDb):
    def __init__(self, pool: asyncpg.Pool) -> None:
        super().__init__(pool, "households")

    async def lookup(self, id_number: str) -> Fetched[HouseholdRecord | None]:
        return await self._ask(repo.household, id_number)


class FrontDbHousingFund(_FrontDb):
    def __init__(self, pool: asyncpg.Pool) -> None:
        super().__init__(pool, "hpf_accounts")

    async def lookup(self, id_number: str) -> Fetched[HousingFundRecord | None]:
        return await self._ask(repo.housing_fund, id_number)


class FrontDbEstate(_FrontDb):
    def __init__(self, pool: asyncpg.Pool) -> None:
        super().__init__(pool, "estate_properties")

    async def properties_of(self, id_number: str) -> Fetched[list[PropertyRecord]]:
        return await self._ask(repo.properties_of, id_number)


class FrontDbMarriage(_FrontDb):
    def __init__(self, pool: asyncpg.Pool) -> None:
        super().__init__(pool, "marriages")

    async def lookup(self, id_number: str) -> Fetched[MarriageRecord | None]:
        return await self._ask(repo.marriage, id_number)


class FrontDbSocialSecurity(_FrontDb):
    def __init__(self, pool: asyncpg.Pool) -> None:
        super().__init__(pool, "social_security")

    async def lookup(self, id_number: str) -> Fetched[SocialSecurityRecord | None]:
        return await self._ask(repo.social_security, id_number)


def frontdb_sources(pool: asyncpg.Pool) -> Sources:
    return Sources(
        identity=FrontDbIdentity(pool),
        household=FrontDbHousehold(pool),
        housing_fund=FrontDbHousingFund(pool),
        estate=FrontDbEstate(pool),
        marriage=FrontDbMarriage(pool),
        social_security=FrontDbSocialSecurity(pool),
    )


# Record lookups by source, for the departments' stand-in (haoban.simulators.sources) serving these rows over HTTP.
LOOKUPS: dict[str, Callable[[asyncpg.Pool, str], Awaitable[object]]] = {
    "identity": repo.identity,
    "household": repo.household,
    "housing_fund": repo.housing_fund,
    "estate": repo.properties_of,
    "marriage": repo.marriage,
    "social_security": repo.social_security,
}
identity_photo = repo.identity_photo
