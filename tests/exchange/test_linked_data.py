"""Linked data: provenance on every item, consent before every pull, a log of every pull."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.exchange.sources.items import ITEMS, SOURCES
from haoban.exchange.sources.ports import Fetched
from haoban.exchange.sources.records import PropertyRecord, SourceName
from haoban.kit.masking import mask_id_number
from tests.exchange import seed
from tests.factories import bearer

ALL_ITEMS = [f"{s}.*" for s in SOURCES]


async def bound_citizen(client: httpx.AsyncClient, id_number: str) -> tuple[str, dict[str, str]]:
    created = await client.post("/sandbox/citizens", json={"id_number": id_number})
    assert created.status_code == 201, created.text
    citizen_id = created.json()["citizen_id"]
    pair = (await client.post(f"/sandbox/citizens/{citizen_id}/tokens", json={})).json()
    return citizen_id, bearer(pair["access_token"])


async def consent(client: httpx.AsyncClient, auth: dict[str, str], items: list[str]) -> dict[str, Any]:
    response = await client.post(
        "/v1/me/consents",
        json={"purpose": {"kind": "self_view"}, "items": items, "terms_version": "2026-11"},
        headers=auth,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def by_source(body: dict[str, Any]) -> dict[SourceName, dict[str, Any]]:
    return {s["source"]: s for s in body["sources"]}


async def test_every_item_carries_provenance(client: AsyncTestClient[Litestar], db: asyncpg.Connection) -> None:
    me, spouse, co_owner = seed.person(1), seed.person(2), seed.person(3)
    await seed.everything(db, me, spouse, co_owner)
    _, auth = await bound_citizen(client, me)
    await consent(client, auth, ALL_ITEMS)

    response = await client.get("/v1/me/linked-data", headers=auth)
    assert response.status_code == 200, response.text
    sources = by_source(response.json())
    assert set(sources) == set(SOURCES)
    for name, data in sources.items():
        assert data["status"] == "ok", name
        assert set(data["items"]) == set(ITEMS[name])
        for item, value in data["items"].items():
            assert set(value) == {"value", "source", "trust_level", "last_updated"}, (name, item)
            assert value["source"] == name
            assert value["trust_level"] == "A"
            assert value["last_updated"].startswith("2026-11-01T08:00:00")

    fund = sources["housing_fund"]["items"]
    assert fund["balance_fen"]["value"] == 3_650_000
    assert fund["bank_card"]["value"]["card_no"] == "**** 0123"
    # written without a code (straight into the front-end database): resolved when read
    assert (fund["city"]["value"], fund["division_code"]["value"], fund["city_code"]["value"]) == (
        "郑州市",
        "410100",
        "410100",
    )
    members = sources["household"]["items"]["members"]["value"]
    assert {m["id_number"] for m in members} == {me, mask_id_number(spouse)}
    prop = sources["estate"]["items"]["properties"]["value"][0]
    assert prop["co_owners"] == [mask_id_number(co_owner)]
    assert sources["marriage"]["items"]["spouse"]["value"]["id_number"] == mask_id_number(spouse)
    assert spouse not in response.text
    assert co_owner not in response.text


async def test_no_record_is_not_unavailable(client: AsyncTestClient[Litestar], db: asyncpg.Connection) -> None:
    me = seed.person(11)
    await seed.identity(db, me)
    _, auth = await bound_citizen(client, me)
    await consent(client, auth, ALL_ITEMS)
    sources = by_source((await client.get("/v1/me/linked-data", headers=auth)).json())
    assert sources["identity"]["status"] == "ok"
    assert sources["estate"]["status"] == "no_record"
    assert sources["estate"]["items"]["properties"]["value"] == []
    assert sources["housing_fund"]["status"] == "no_record"
    assert sources["housing_fund"]["items"]["balance_fen"]["value"] is None
    assert sources["housing_fund"]["items"]["balance_fen"]["trust_level"] == "A"
    assert "unavailable" not in str(sources)


class _StalledEstate:
    async def properties_of(self, id_number: str) -> Fetched[list[PropertyRecord]]:
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")


async def test_a_stalled_source_becomes_unavailable_and_the_rest_answer(
    client: AsyncTestClient[Litestar], app: Litestar, db: asyncpg.Connection
) -> None:
    me = seed.person(21)
    await seed.everything(db, me, seed.person(22), seed.person(23))
    _, auth = await bound_citizen(client, me)
    await consent(client, auth, ALL_ITEMS)
    runtime = app.state.runtime
    runtime._sources = msgspec.structs.replace(runtime.sources, estate=_StalledEstate())

    response = await client.get("/v1/me/linked-data", headers=auth)
    assert response.status_code == 200
    sources = by_source(response.json())
    assert sources["estate"]["status"] == "unavailable"
    assert sources["estate"]["items"]["properties"] == {"unavailable": True, "reason": "timeout"}
    assert sources["housing_fund"]["status"] == "ok"
    outcomes = await db.fetch("SELECT source, outcome, response_hash FROM data_access_log ORDER BY seq")
    estate = next(r for r in outcomes if r["source"] == "estate")
    assert estate["outcome"] == "unavailable"
    assert estate["response_hash"] is None


async def test_pull_without_consent_is_403_naming_what_is_missing(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection
) -> None:
    me = seed.person(31)
    await seed.identity(db, me)
    _, auth = await bound_citizen(client, me)
    await consent(client, auth, ["identity.*"])

    refused = await client.get("/v1/me/linked-data", headers=auth)
    assert refused.status_code == 403
    body = refused.json()
    assert body["code"] == "consent_required"
    assert "housing_fund.balance_fen" in body["extra"]["missing_items"]
    assert "identity.name" not in body["extra"]["missing_items"]
    assert await db.fetchval("SELECT count(*) FROM data_access_log") == 0

    allowed = await client.get("/v1/me/linked-data", params={"sources": "identity"}, headers=auth)
    assert allowed.status_code == 200
    assert [s["source"] for s in allowed.json()["sources"]] == ["identity"]


async def test_revoking_stops_later_pulls_at_once(client: AsyncTestClient[Litestar], db: asyncpg.Connection) -> None:
    me = seed.person(41)
    await seed.identity(db, me)
    _, auth = await bound_citizen(client, me)
    granted = await consent(client, auth, ["identity.*"])
    assert (await client.get("/v1/me/linked-data?sources=identity", headers=auth)).status_code == 200

    listed = (await client.get("/v1/me/consents", headers=auth)).json()["consents"]
    assert [c["id"] for c in listed] == [granted["id"]]
    assert (await client.delete(f"/v1/me/consents/{granted['id']}", headers=auth)).status_code == 204
    assert (await client.get("/v1/me/linked-data?sources=identity", headers=auth)).status_code == 403
    listed = (await client.get("/v1/me/consents", headers=auth)).json()["consents"]
    assert listed[0]["status"] == "revoked"


async def test_a_citizen_cannot_revoke_another_citizens_consent(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection
) -> None:
    _, alice = await bound_citizen(client, seed.person(51))
    _, bob = await bound_citizen(client, seed.person(52))
    granted = await consent(client, alice, ["identity.*"])
    assert (await client.delete(f"/v1/me/consents/{granted['id']}", headers=bob)).status_code == 404
    assert (await client.get("/v1/me/consents", headers=alice)).json()["consents"][0]["status"] == "active"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"purpose": {"kind": "self_view"}, "items": ["passport.*"], "terms_version": "1"}, "items[0]"),
        ({"purpose": {"kind": "self_view", "ref": "x"}, "items": ["identity.*"], "terms_version": "1"}, "purpose.ref"),
        ({"purpose": {"kind": "service"}, "items": ["identity.*"], "terms_version": "1"}, "purpose.ref"),
        ({"purpose": {"kind": "gossip"}, "items": ["identity.*"], "terms_version": "1"}, "purpose.kind"),
        ({"purpose": {"kind": "self_view"}, "items": [], "terms_version": "1"}, "items"),
    ],
)
async def test_bad_consent_is_422_naming_the_field(
    client: AsyncTestClient[Litestar], body: dict[str, Any], field: str
) -> None:
    _, auth = await bound_citizen(client, seed.person(61))
    response = await client.post("/v1/me/consents", json=body, headers=auth)
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]]


async def test_unknown_sources_parameter_is_422(client: AsyncTestClient[Litestar]) -> None:
    _, auth = await bound_citizen(client, seed.person(71))
    response = await client.get("/v1/me/linked-data", params={"sources": "identity,horoscope"}, headers=auth)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "sources"


async def test_bad_id_number_on_the_sandbox_is_422(client: AsyncTestClient[Litestar]) -> None:
    good = seed.person(81)
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    response = await client.post("/sandbox/citizens", json={"id_number": bad})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "id_number"
