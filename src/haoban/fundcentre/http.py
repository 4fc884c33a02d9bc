"""The fund centre's HTTP API (a `FundCentre`).

    POST {base}/v1/debits                 a DebitInstruction; 200 a DebitAnswer (the same for the same id)
    POST {base}/v1/debits/{id}/reversal   {"reason"}; 200 a DebitAnswer, 404 when never received
    GET  {base}/v1/debits?since=ISO       a JSON list of PostedDebit
    GET  {base}/v1/accounts/{account_no}  {"balance_fen"}; 404 unknown

Bearer token auth; every call has the configured deadline. Anything that is
not such an answer is FundCentreUnavailable: the outcome of a debit is then
unknown, and asking again with the same instruction id is safe.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar
from urllib.parse import quote
from uuid import UUID

import httpx
import msgspec

from haoban.fundcentre.ports import DebitAnswer, DebitInstruction, FundCentreUnavailable, PostedDebit
from haoban.kit.tracing import traced_client
from haoban.settings import FundCentreSettings

T = TypeVar("T")


class _Balance(msgspec.Struct, frozen=True):
    balance_fen: int


class HttpFundCentre:
    configured = True

    def __init__(self, settings: FundCentreSettings, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        if not settings.base_url:
            raise ValueError("HttpFundCentre needs a base URL")
        self._client = traced_client(
            base_url=settings.base_url,
            timeout=settings.timeout_ms / 1000,
            headers={"Authorization": f"Bearer {settings.token}"},
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _call(
        self, method: str, path: str, *, body: object = None, params: dict[str, str] | None = None
    ) -> bytes | None:
        try:
            response = await self._client.request(
                method,
                path,
                content=msgspec.json.encode(body) if body is not None else None,
                params=params,
                headers={"content-type": "application/json"} if body is not None else None,
            )
        except httpx.HTTPError as exc:
            raise FundCentreUnavailable(type(exc).__name__) from exc
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise FundCentreUnavailable(f"http {response.status_code}")
        return response.content

    async def debit(self, instruction: DebitInstruction) -> DebitAnswer:
        body = await self._call("POST", "/v1/debits", body=instruction)
        return _decode(body, DebitAnswer)

    async def reverse(self, instruction_id: UUID, *, reason: str) -> DebitAnswer | None:
        body = await self._call("POST", f"/v1/debits/{instruction_id}/reversal", body={"reason": reason})
        return None if body is None else _decode(body, DebitAnswer)

    async def debits(self, since: datetime) -> list[PostedDebit]:
        body = await self._call("GET", "/v1/debits", params={"since": since.isoformat()})
        return _decode(body, list[PostedDebit])

    async def balance(self, account_no: str) -> int | None:
        body = await self._call("GET", f"/v1/accounts/{quote(account_no, safe='')}")
        return None if body is None else _decode(body, _Balance).balance_fen


def _decode(body: bytes | None, kind: type[T]) -> T:
    if body is None:
        raise FundCentreUnavailable("not found")
    try:
        return msgspec.json.decode(body, type=kind)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise FundCentreUnavailable(f"bad response: {exc}") from exc
