"""Citizens with source records, set up through the sandbox routes, and their face-verified tokens."""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg
import httpx
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.kit.clock import Clock
from haoban.settings import Settings
from tests.oauth import flows
from tests.sandbox import bodies

Client = AsyncTestClient[Litestar] | httpx.AsyncClient


class Person:
    def __init__(self, citizen_id: str, id_number: str, token: str, card_no: str) -> None:
        self.citizen_id = citizen_id
        self.id_number = id_number
        self.token = token
        self.card_no = card_no

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def put(client: Client, path: str, body: dict[str, Any]) -> None:
    response = await client.post(path, json=body)
    assert response.status_code in (200, 201), response.text


async def person(
    client: Client,
    db: asyncpg.Connection,
    settings: Settings,
    clock: Clock,
    *,
    seq: int,
    born: date = date(1990, 5, 17),
    fund: dict[str, Any] | None = None,
    owns_property: bool = False,
    mortgaged: bool = False,
    card_no: str | None = None,
    with_fund: bool = True,
    household: dict[str, Any] | None = None,
    with_household: bool = True,
) -> Person:
    """A citizen bound to a new ID number, with identity, household and social security in 郑州
    (`household` overrides the household record's fields: another city)."""
    id_number = bodies.person(seq, born)
    card = card_no or f"62170000000{seq:08d}"
    await put(client, "/sandbox/identities", bodies.identity(id_number))
    if with_household:
        await put(client, "/sandbox/households", bodies.household(f"HH{seq:04d}", id_number, **(household or {})))
    await put(client, "/sandbox/social-security", bodies.social(id_number))
    if with_fund:
        body = bodies.fund(id_number, account_no=f"ZZ{seq:06d}", **(fund or {}))
        body["bank_card"] = {"bank_name": "中国建设银行", "card_no": card}
        await put(client, "/sandbox/housing-fund/accounts", body)
    if owns_property:
        await put(
            client,
            "/sandbox/estate/properties",
            bodies.estate(f"豫(2020)郑州市不动产权第{seq:07d}号", id_number, mortgaged=mortgaged),
        )
    created = await client.post("/sandbox/citizens", json={"id_number": id_number})
    assert created.status_code == 201, created.text
    citizen_id = str(created.json()["citizen_id"])
    token = await flows.face_token(db, settings, clock, citizen_id)
    return Person(citizen_id, id_number, token, card)


async def apply(client: Client, who: Person, service_code: str, **extra: Any) -> Any:
    headers = {**who.headers, **extra.pop("headers", {})}
    return await client.post(
        "/v1/applications", json={"service_code": service_code, "inputs": extra.pop("inputs", {})}, headers=headers
    )
