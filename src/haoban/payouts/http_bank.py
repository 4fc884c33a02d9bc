"""The bank port over the bank's direct-connect HTTP API (wire format and signatures: docs/bank.md).

    POST {base_url}/transfers            TransferOrder -> 200 TransferRecord (idempotent on payout_id)
    GET  {base_url}/transfers/{payout_id}             -> 200 TransferRecord, 404 {"error": "not_found"}

Every request and every answer is signed (`bank_signing`). One call (retries
and `processing` polls included) ends within `timeout_ms`. POST is retried like
GET: the bank keys transfers by payout_id, so a resend cannot pay twice. An
attempt that may be retried gets at most 60% of the call's time, so a resend
after a read timeout can still learn the outcome within the same call.

Errors, from what we know about the bank's side:
  - `BankUnavailable`: certainly not accepted: the connection was refused, the
    breaker is open, or the bank's signed 503 said it recorded nothing.
    `BankRejected` (a subclass): the bank answered with a signed refusal (401, 409, 422).
  - `BankTimeout`: an attempt may have reached the bank and no trusted answer came
    (read timeout, an unsigned 5xx, a transfer still `processing`).
    `BankResponseInvalid` (a subclass): an answer whose signature or content did not
    verify. It is never trusted, and the outcome counts as unknown.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from typing import Annotated, Literal
from uuid import UUID

import httpx
import msgspec

from haoban.exchange.sources.breaker import CircuitBreaker
from haoban.kit.clock import Clock
from haoban.kit.tracing import traced_client
from haoban.payouts import bank_signing
from haoban.payouts.ports import BankTimeout, BankTransfer, BankUnavailable
from haoban.settings import BankSettings

log = logging.getLogger("haoban.payouts.bank")

BACKOFF_BASE_S = 0.05
MIN_ATTEMPT_S = 0.02  # do not start an attempt with less time than this left
ATTEMPT_SHARE = 0.6  # an attempt that may be retried gets at most this share of the call's time

CardNo = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{12,19}$")]


class TransferOrder(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The body of `POST /transfers`."""

    payout_id: UUID
    card_no: CardNo
    account_name: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    amount_fen: Annotated[int, msgspec.Meta(gt=0)]


class TransferRecord(msgspec.Struct, frozen=True, kw_only=True):
    """The bank's transfer: the answer to both routes and the body of a callback."""

    payout_id: UUID
    card_no: str
    amount_fen: int
    status: Literal["settled", "failed", "processing"]
    bank_ref: str
    failure_reason: str | None = None


class BankError(msgspec.Struct, frozen=True, kw_only=True):
    error: str


class BankRejected(BankUnavailable):
    """The bank answered, signed, and refused the request; `code` is its error code."""

    def __init__(self, code: str, status: int) -> None:
        super().__init__(f"bank refused: {code} ({status})")
        self.code = code
        self.status = status


class BankResponseInvalid(BankTimeout):
    """An answer that did not verify (signature, body, or another payout's data): never trusted."""


_RECORD = msgspec.json.Decoder(TransferRecord)
_ERROR = msgspec.json.Decoder(BankError)


def to_bank_transfer(record: TransferRecord) -> BankTransfer:
    """The port's view of a finished transfer (not for `processing`)."""
    if record.status == "processing":
        raise ValueError("a processing transfer is not final")
    return BankTransfer(
        payout_id=record.payout_id,
        card_no=record.card_no,
        amount_fen=record.amount_fen,
        status=record.status,
        failure_reason=record.failure_reason,
        bank_ref=record.bank_ref,
    )


class _Answer(msgspec.Struct, frozen=True):
    status: int
    body: bytes


class _Attempt(Exception):
    """One attempt without a trusted answer; `reached`: the bank may have seen the request."""

    def __init__(self, reason: str, *, reached: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.reached = reached


class HttpBank:
    """`Bank` over HTTP: deadline, retries with backoff and jitter, a breaker, signed messages."""

    def __init__(
        self,
        settings: BankSettings,
        *,
        clock: Clock,
        client: httpx.AsyncClient | None = None,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        if not settings.base_url or not settings.secret:
            raise ValueError("the HTTP bank needs a base URL and a secret")
        self.base_url = settings.base_url.rstrip("/")
        self._settings = settings
        self._clock = clock
        self._owns_client = client is None
        self._client = client or traced_client(timeout=settings.timeout_ms / 1000, follow_redirects=False)
        self.breaker = breaker or CircuitBreaker(
            failures=settings.breaker_failures, reset_s=settings.breaker_reset_s, clock=clock
        )

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def transfer(self, *, payout_id: UUID, card_no: str, account_name: str, amount_fen: int) -> BankTransfer:
        deadline = time.monotonic() + self._settings.timeout_ms / 1000
        order = TransferOrder(payout_id=payout_id, card_no=card_no, account_name=account_name, amount_fen=amount_fen)
        answer = await self._call("POST", "/transfers", msgspec.json.encode(order), deadline)
        record = self._record(answer, payout_id)
        if record is None:
            raise BankRejected("not_found", 404)  # a POST never answers 404
        if record.card_no != card_no or record.amount_fen != amount_fen:
            raise BankResponseInvalid("the bank answered with another transfer's card or amount")
        poll_s = self._settings.poll_ms / 1000
        while record.status == "processing":
            if deadline - time.monotonic() < poll_s + MIN_ATTEMPT_S:
                raise BankTimeout("the transfer is still processing at the bank")
            await asyncio.sleep(poll_s)
            try:
                polled = self._record(await self._call("GET", f"/transfers/{payout_id}", b"", deadline), payout_id)
            except BankUnavailable as exc:  # the bank has the transfer, so this is not "not accepted"
                raise BankTimeout(f"the transfer is processing and the bank stopped answering: {exc}") from exc
            if polled is None:
                raise BankResponseInvalid("the bank lost a transfer it reported processing")
            record = polled
        return to_bank_transfer(record)

    async def status(self, payout_id: UUID) -> BankTransfer | None:
        """The bank's transfer, or None when it never got one; BankTimeout while it is still processing."""
        deadline = time.monotonic() + self._settings.timeout_ms / 1000
        record = self._record(await self._call("GET", f"/transfers/{payout_id}", b"", deadline), payout_id)
        if record is None:
            return None
        if record.status == "processing":
            raise BankTimeout("the transfer is still processing at the bank")
        return to_bank_transfer(record)

    def _record(self, answer: _Answer, payout_id: UUID) -> TransferRecord | None:
        """The verified answer as a transfer of this payout; None for 404; refusals raised."""
        if answer.status == 200:
            try:
                record = _RECORD.decode(answer.body)
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                raise BankResponseInvalid(f"unreadable transfer: {exc}") from exc
            if record.payout_id != payout_id:
                raise BankResponseInvalid("the bank answered about another payout")
            return record
        code = _error_code(answer.body)
        if answer.status == 404 and code == "not_found":
            return None
        log.error("bank refused a request: %s (%d)", code, answer.status, extra={"payout_id": str(payout_id)})
        raise BankRejected(code, answer.status)

    async def _call(self, method: str, path: str, body: bytes, deadline: float) -> _Answer:
        """The first signed answer below 500, retrying within the deadline; errors mapped for the port."""
        if not self.breaker.allow():
            raise BankUnavailable("circuit_open")
        reached = False
        attempt = 0
        while True:
            attempt += 1
            try:
                budget = deadline - time.monotonic()
                if attempt <= self._settings.retries:  # leave time for a resend to learn the outcome
                    budget = min(budget, ATTEMPT_SHARE * self._settings.timeout_ms / 1000)
                answer = await self._attempt(method, path, body, budget)
            except _Attempt as exc:
                reached = reached or exc.reached
                failure = exc
            else:
                self.breaker.record_success()
                return answer
            delay = random.uniform(0, BACKOFF_BASE_S * 2 ** (attempt - 1))  # noqa: S311 (jitter, not crypto)
            if attempt > self._settings.retries or deadline - time.monotonic() - delay < MIN_ATTEMPT_S:
                break
            log.info("bank %s %s: %s (attempt %d), retrying", method, path, failure.reason, attempt)
            await asyncio.sleep(delay)
        self.breaker.record_failure()
        log.warning("bank %s %s: %s after %d attempt(s)", method, path, failure.reason, attempt)
        if failure.reason == "bad_response":
            raise BankResponseInvalid(f"{method} {path}: the answer did not verify")
        if reached:
            raise BankTimeout(f"{method} {path}: {failure.reason}; the outcome is unknown")
        raise BankUnavailable(f"{method} {path}: {failure.reason}")

    async def _attempt(self, method: str, path: str, body: bytes, budget_s: float) -> _Answer:
        """One signed exchange that cannot outlive `budget_s`; 5xx and unverified answers raise `_Attempt`."""
        settings = self._settings
        headers = bank_signing.sign_request(
            key_id=settings.key_id,
            secret=settings.secret,
            method=method,
            path=path,
            body=body,
            timestamp=int(self._clock.now().timestamp()),
        )
        headers["Accept"] = "application/json"
        if body:
            headers["Content-Type"] = "application/json"
        request = self._client.build_request(
            method, self.base_url + path, content=body, headers=headers, timeout=max(budget_s, 0.001)
        )
        try:
            async with asyncio.timeout(budget_s):
                response = await self._client.send(request)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise _Attempt(type(exc).__name__, reached=False) from exc
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise _Attempt("timeout", reached=True) from exc
        except httpx.HTTPError as exc:
            raise _Attempt(type(exc).__name__, reached=True) from exc
        try:
            bank_signing.verify_response(
                response.headers,
                key_id=settings.key_id,
                secret=settings.secret,
                status=response.status_code,
                request_nonce=headers[bank_signing.NONCE],
                body=response.content,
            )
        except bank_signing.SignatureError as exc:
            if response.status_code >= 500:
                raise _Attempt(f"status {response.status_code}", reached=True) from exc  # a proxy's error page
            raise _Attempt("bad_response", reached=True) from exc
        if response.status_code == 503 and _error_code(response.content) == "unavailable":
            raise _Attempt("unavailable", reached=False)  # signed: the bank recorded nothing
        if response.status_code >= 500:
            raise _Attempt(f"status {response.status_code}", reached=True)
        return _Answer(response.status_code, response.content)


def _error_code(body: bytes) -> str:
    try:
        return _ERROR.decode(body).error
    except (msgspec.DecodeError, msgspec.ValidationError):
        return "unreadable"


def make_bank(settings: BankSettings, *, clock: Clock, client: httpx.AsyncClient | None = None) -> HttpBank | None:
    """The HTTP bank when a base URL is configured, else None (the caller picks the sandbox bank)."""
    if settings.base_url is None:
        return None
    return HttpBank(settings, clock=clock, client=client)
