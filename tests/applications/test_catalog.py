"""The service catalog: what each service needs, and who provides it."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

INSTANT = {"hpf.withdraw.rent", "hpf.withdraw.retirement", "hpf.withdraw.loan_repayment"}


async def test_catalog_lists_the_pinned_services_with_no_materials_for_instant_ones(
    client: AsyncTestClient[Litestar],
) -> None:
    response = await client.get("/v1/services")
    assert response.status_code == 200
    services = {s["code"]: s for s in response.json()["services"]}
    assert INSTANT | {"housing.public_rental.apply"} <= set(services)
    for code in INSTANT:
        assert services[code]["decision_mode"] == "instant"
        assert services[code]["materials_you_provide"] == 0
    assert services["housing.public_rental.apply"]["decision_mode"] == "manual"
    assert services["housing.public_rental.apply"]["materials_you_provide"] > 0


async def test_public_rental_detail_names_what_the_applicant_supplies(client: AsyncTestClient[Litestar]) -> None:
    body = (await client.get("/v1/services/housing.public_rental.apply")).json()
    provided = {m["code"] for m in body["materials"] if m["you_provide"]}
    assert provided == set(body["materials_you_provide"])
    assert "commitment_letter" in provided
    shared = [m for m in body["materials"] if m["kind"] == "shared"]
    assert shared
    assert all(m["items"] and m["trust_level"] == "A" for m in shared)
    assert body["tolerant_acceptance"] is True
    assert body["legal_basis"]


async def test_rent_detail_asks_for_nothing(client: AsyncTestClient[Litestar]) -> None:
    body = (await client.get("/v1/services/hpf.withdraw.rent")).json()
    assert body["materials_you_provide"] == []
    assert {m["kind"] for m in body["materials"]} <= {"shared", "not_needed"}


async def test_unknown_service_is_404_problem(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/v1/services/no.such.service")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
