"""Adapters for a source department's real-time HTTP API.

Wire format (served for tests and demos by `haoban.simulators.sources.server`):

    GET {base_url}/v1/{source}/{id_number}        source: identity, household, housing_fund,
                                                   estate, marriage, social_security
        200  application/json: the record, as msgspec encodes the `records.py` type
             (estate: a JSON list of PropertyRecord, possibly empty)
        404  with body {"code": "no_record"}: no record for this person (-> None, or []
             for estate). Any other 404 (a wrong base URL, a proxy) is an http_error:
             "no property" or "no fund account" can decide eligibility, so it must
             never be guessed.
    GET {base_url}/v1/identity/{id_number}/photo
        200  the photo's bytes; 404 with the same marker: no photo (-> None)

    Request headers: Accept, X-Request-ID (the current request's id, when there
    is one), Authorization: Bearer <token> (when a token is configured).

Every call (retries included) ends within `source_timeout_ms`. Connection
failures, timeouts and 5xx are retried with exponential backoff and full jitter
while the deadline leaves room. Anything that is not an answer raises
`SourceUnavailable`: timeout; http_error (other 4xx at once, or 5xx/unreachable
after retries); bad_response (body not the record type); circuit_open (no
request made). Each source has a breaker; all of these but a 4xx other than
429 count as its failures. `Fetched.response_hash` = sha256 of the raw body.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import random
import time
from collections.abc import Callable, Mapping
from typing import TypeVar
from urllib.parse import quote

import httpx
import msgspec

from haoban.exchange.sources import vocab
from haoban.exchange.sources.breaker import CircuitBreaker
from haoban.exchange.sources.ports import Fetched, Sources, SourceUnavailable
from haoban.exchange.sources.records import (
    HouseholdRecord,
    HousingFundRecord,
    IdentityRecord,
    MarriageRecord,
    PropertyRecord,
    SocialSecurityRecord,
)
from haoban.kit.clock import Clock
from haoban.kit.context import request_id_var
from haoban.kit.masking import mask_id_number
from haoban.kit.tracing import traced_client
from haoban.settings import ExchangeSettings

T = TypeVar("T")

log = logging.getLogger("haoban.exchange")

BACKOFF_BASE_S = 0.05
MIN_ATTEMPT_S = 0.02  # do not start an attempt with less time than this left


class _Failure(Exception):
    """An attempt that got no usable answer; `retry` says whether another attempt may help."""

    def __init__(self, reason: str, detail: str, *, retry: bool) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.retry = retry
        self.attempt = 0


NO_RECORD = "no_record"


def _is_no_record(body: bytes) -> bool:
    try:
        decoded = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return False
    return isinstance(decoded, dict) and decoded.get("code") == NO_RECORD


class HttpSource:
    """The transport shared by the per-port adapters: deadline, retries, breaker, logging."""

    def __init__(
        self,
        *,
        source: str,
        base_url: str,
        client: httpx.AsyncClient,
        breaker: CircuitBreaker,
        timeout_ms: int,
        retries: int,
        token: str | None = None,
    ) -> None:
        self.source = source
        self.base_url = base_url.rstrip("/")
        self.system = "http:" + self.base_url
        self.breaker = breaker
        self._client = client
        self._timeout_s = timeout_ms / 1000
        self._retries = retries
        self._token = token

    async def request(self, path: str, id_number: str, decode: Callable[[bytes], T], missing: T) -> tuple[T, bytes]:
        """GET `path`; (decoded body, raw body) on 200, (missing, raw body) on 404."""
        if not self.breaker.allow():
            self._log("circuit_open", 0, id_number, quiet=True)
            raise SourceUnavailable("circuit_open", self.source)
        try:
            status, body, attempt = await self._exchange(path, id_number)
        except _Failure as exc:
            self.breaker.record_failure()
            self._log(exc.reason, exc.attempt, id_number, exc.detail)
            raise SourceUnavailable(exc.reason, exc.detail) from exc
        if status == 404 and not _is_no_record(body):
            status = 444  # a 404 without the marker is not an answer
        if status not in (200, 404):
            # The source is up and refuses us (auth, bad request): not retried, and only
            # an overloaded source (429) counts towards opening the breaker.
            if status == 429:
                self.breaker.record_failure()
            else:
                self.breaker.record_success()
            shown = 404 if status == 444 else status
            self._log("http_error", attempt, id_number, f"status {shown}")
            raise SourceUnavailable("http_error", f"status {shown}")
        try:
            value = missing if status == 404 else decode(body)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            self.breaker.record_failure()
            self._log("bad_response", attempt, id_number)
            raise SourceUnavailable("bad_response", str(exc)) from exc
        self.breaker.record_success()
        return value, body

    async def _exchange(self, path: str, id_number: str) -> tuple[int, bytes, int]:
        """(status, body, attempts) of the first answer below 500, retrying within the deadline."""
        deadline = time.monotonic() + self._timeout_s
        url = f"{self.base_url}{path}"
        headers = {"Accept": "application/json"}
        if (request_id := request_id_var.get()) is not None:
            headers["X-Request-ID"] = request_id
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self._attempt(url, headers, deadline - time.monotonic())
            except _Failure as exc:
                failure = exc
            else:
                if response.status_code < 500:
                    return response.status_code, response.content, attempt
                failure = _Failure("http_error", f"status {response.status_code}", retry=True)
            failure.attempt = attempt
            delay = random.uniform(0, BACKOFF_BASE_S * 2 ** (attempt - 1))  # noqa: S311 (jitter, not crypto)
            if not failure.retry or attempt > self._retries or deadline - time.monotonic() - delay < MIN_ATTEMPT_S:
                raise failure
            self._log(failure.reason, attempt, id_number, failure.detail, quiet=True)
            await asyncio.sleep(delay)

    async def _attempt(self, url: str, headers: dict[str, str], budget_s: float) -> httpx.Response:
        """One GET that cannot outlive `budget_s`, whatever httpx's own timeouts do."""
        try:
            async with asyncio.timeout(budget_s):
                return await self._client.get(url, headers=headers, timeout=budget_s)
        except TimeoutError as exc:
            raise _Failure("timeout", "deadline", retry=True) from exc
        except httpx.TimeoutException as exc:
            raise _Failure("timeout", type(exc).__name__, retry=True) from exc
        except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            raise _Failure("http_error", type(exc).__name__, retry=True) from exc
        except httpx.HTTPError as exc:
            raise _Failure("http_error", type(exc).__name__, retry=False) from exc

    def _log(self, reason: str, attempt: int, id_number: str, detail: str = "", *, quiet: bool = False) -> None:
        """One line per failure; retries and refusals by an open breaker at INFO, so an outage does not flood."""
        extra = {"source": self.source, "reason": reason, "attempt": attempt, "detail": detail}
        extra["id_number"] = mask_id_number(id_number)
        message = "source %s %s (attempt %d)" + (", retrying" if attempt and quiet else "")
        log.log(logging.INFO if quiet else logging.WARNING, message, self.source, reason, attempt, extra=extra)

    async def fetch(self, source: str, id_number: str, decode: Callable[[bytes], T], missing: T) -> Fetched[T]:
        value, body = await self.request(f"/v1/{source}/{_segment(id_number)}", id_number, decode, missing)
        return Fetched(record=value, response_hash=hashlib.sha256(body).hexdigest(), system=self.system)


_PROPERTIES = msgspec.json.Decoder(list[PropertyRecord])


@functools.cache
def _decoder(type_: type[T]) -> msgspec.json.Decoder[T]:
    return msgspec.json.Decoder(type_)


def _labelled(source: str, type_: type[T]) -> Callable[[bytes], T]:
    """Decode a record whose labels (relations, withdrawal kinds) become codes first."""

    def decode(body: bytes) -> T:
        return msgspec.convert(vocab.wire(source, msgspec.json.decode(body)), type_)

    return decode


def _segment(id_number: str) -> str:
    """The ID number as one path segment: nothing in it can reach another route."""
    if id_number in ("", ".", ".."):
        raise ValueError("not an ID number")
    return quote(id_number, safe="")


class _Port:
    def __init__(self, http: HttpSource) -> None:
        self.http = http


class HttpIdentity(_Port):
    async def lookup(self, id_number: str) -> Fetched[IdentityRecord | None]:
        return await self.http.fetch("identity", id_number, _decoder(IdentityRecord).decode, None)

    async def photo(self, id_number: str) -> bytes | None:
        photo, _ = await self.http.request(f"/v1/identity/{_segment(id_number)}/photo", id_number, bytes, None)
        return photo


class HttpHousehold(_Port):
    async def lookup(self, id_number: str) -> Fetched[HouseholdRecord | None]:
        return await self.http.fetch("household", id_number, _labelled("household", HouseholdRecord), None)


class HttpHousingFund(_Port):
    async def lookup(self, id_number: str) -> Fetched[HousingFundRecord | None]:
        return await self.http.fetch("housing_fund", id_number, _labelled("housing_fund", HousingFundRecord), None)


class HttpEstate(_Port):
    async def properties_of(self, id_number: str) -> Fetched[list[PropertyRecord]]:
        empty: list[PropertyRecord] = []
        return await self.http.fetch("estate", id_number, _PROPERTIES.decode, empty)


class HttpMarriage(_Port):
    async def lookup(self, id_number: str) -> Fetched[MarriageRecord | None]:
        return await self.http.fetch("marriage", id_number, _decoder(MarriageRecord).decode, None)


class HttpSocialSecurity(_Port):
    async def lookup(self, id_number: str) -> Fetched[SocialSecurityRecord | None]:
        return await self.http.fetch("social_security", id_number, _decoder(SocialSecurityRecord).decode, None)


HttpAdapter = HttpIdentity | HttpHousehold | HttpHousingFund | HttpEstate | HttpMarriage | HttpSocialSecurity

_ADAPTERS: dict[str, Callable[[HttpSource], HttpAdapter]] = {
    "identity": HttpIdentity,
    "household": HttpHousehold,
    "housing_fund": HttpHousingFund,
    "estate": HttpEstate,
    "marriage": HttpMarriage,
    "social_security": HttpSocialSecurity,
}


class HttpSourceSet(dict[str, HttpAdapter]):
    """The HTTP adapters by source name, sharing one client; `aclose()` closes it if we made it."""

    def __init__(self, adapters: Mapping[str, HttpAdapter], client: httpx.AsyncClient, *, owns_client: bool) -> None:
        super().__init__(adapters)
        self.client = client
        self._owns_client = owns_client

    def overlay(self, base: Sources) -> Sources:
        """`base` with the ports that have an HTTP source replaced by their HTTP adapter."""
        return msgspec.structs.replace(base, **self)

    async def aclose(self) -> None:
        if self._owns_client:
            await self.client.aclose()

    async def __aenter__(self) -> HttpSourceSet:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()


def http_sources(
    settings: ExchangeSettings,
    clock: Clock,
    *,
    client: httpx.AsyncClient | None = None,
    tokens: Mapping[str, str] | None = None,
) -> HttpSourceSet:
    """One adapter (and one breaker) per source in `settings.http_sources`, over one shared client.

    `tokens` maps a source name to its bearer token; a client passed in stays the caller's to close.
    """
    owns_client = client is None
    if client is None:
        client = traced_client(timeout=settings.source_timeout_ms / 1000, follow_redirects=False)
    adapters: dict[str, HttpAdapter] = {}
    for source, base_url in settings.http_sources.items():
        if source not in _ADAPTERS:
            raise ValueError(f"unknown source {source!r}")
        transport = HttpSource(
            source=source,
            base_url=base_url,
            client=client,
            breaker=CircuitBreaker(failures=settings.breaker_failures, reset_s=settings.breaker_reset_s, clock=clock),
            timeout_ms=settings.source_timeout_ms,
            retries=settings.http_retries,
            token=(tokens or {}).get(source),
        )
        adapters[source] = _ADAPTERS[source](transport)
    return HttpSourceSet(adapters, client, owns_client=owns_client)
