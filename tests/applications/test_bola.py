"""Every citizen route with an application id, taken from the contract: another citizen gets 404, nothing changes."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import asyncpg
from httpx import Response
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.kit.clock import FrozenClock
from haoban.materials import letters
from haoban.settings import Settings
from tests.applications.people import apply, person
from tests.staff.factories import jpeg

CONTRACT = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"
BODIES = {
    "acceptance": {"authorization_version": letters.VERSION, "tolerant_commitment_version": letters.VERSION},
}


def citizen_routes() -> list[tuple[str, str]]:
    paths = json.loads(CONTRACT.read_text(encoding="utf-8"))["paths"]
    return [
        (method.upper(), path)
        for path, operations in paths.items()
        if path.startswith("/v1/applications/{application_id}")
        for method in operations
    ]


async def test_another_citizens_application_is_404_on_every_route(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, settings: Settings, clock: FrozenClock
) -> None:
    owner = await person(client, db, settings, clock, seq=131)
    other = await person(client, db, settings, clock, seq=132)
    created = await apply(
        client,
        owner,
        "housing.public_rental.apply",
        inputs={"household_size": 2, "monthly_income_fen": 150_000},
    )
    assert created.status_code == 201, created.text
    app_id = created.json()["application_id"]
    before = await db.fetchval("SELECT count(*) FROM application_events")
    routes = citizen_routes()
    assert len(routes) >= 5, routes  # the test grows with the contract

    async def send(method: str, path: str) -> Response:
        if path.endswith("/materials") and method == "POST":
            return await client.post(
                f"{path}?code=income_proof", content=jpeg(), headers={**other.headers, "Content-Type": "image/jpeg"}
            )
        body = BODIES.get(path.rsplit("/", 1)[-1])
        return await client.request(method, path, json=body, headers=other.headers)

    for method, template in routes:
        response = await send(method, template.replace("{application_id}", app_id))
        assert response.status_code == 404, (method, template, response.status_code, response.text)
        missing = await send(method, template.replace("{application_id}", str(uuid.uuid4())))
        same = ("code", "detail", "status")
        assert [response.json()[k] for k in same] == [missing.json()[k] for k in same], (method, template)
    assert await db.fetchval("SELECT count(*) FROM application_events") == before
    assert await db.fetchval("SELECT count(*) FROM application_materials") == 0
    mine = await client.get(f"/v1/applications/{app_id}", headers=owner.headers)
    assert mine.status_code == 200
