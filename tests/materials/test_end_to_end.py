"""A public-rental application from submission through uploads, tolerant acceptance and a staff decision."""

from __future__ import annotations

import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.kit.clock import FrozenClock
from haoban.materials import letters
from haoban.settings import Settings
from tests.applications.people import apply, person
from tests.staff.factories import jpeg, make_staff, staff_headers


async def test_public_rental_through_tolerant_acceptance_to_a_staff_decision(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, settings: Settings, clock: FrozenClock
) -> None:
    applicant = await person(client, db, settings, clock, seq=931)
    submitted = await apply(
        client,
        applicant,
        "housing.public_rental.apply",
        inputs={"household_size": 2, "monthly_income_fen": 150000},
    )
    assert submitted.status_code == 201, submitted.text
    app_id = submitted.json()["application_id"]
    assert submitted.json()["status"] == "pending_materials"  # waits for the 1+1+N materials
    headers = applicant.headers

    async def upload(code: str) -> str:
        response = await client.post(
            f"/v1/applications/{app_id}/materials?code={code}",
            content=jpeg(),
            headers={**headers, "Content-Type": "image/jpeg"},
        )
        assert response.status_code == 201, response.text
        status: str = response.json()["application_status"]
        return status

    assert await upload("income_proof") == "pending_materials"
    accepted = await client.post(
        f"/v1/applications/{app_id}/acceptance",
        json={"authorization_version": letters.VERSION, "tolerant_commitment_version": letters.VERSION},
        headers=headers,
    )
    assert accepted.status_code == 200, accepted.text
    notice = accepted.json()["notice"]
    assert [m["code"] for m in notice["missing"]] == ["labor_contract", "residence_photo"]

    await make_staff(db, now=clock.now())
    staff = await staff_headers(client)
    queued = (await client.get("/v1/staff/queue", headers=staff)).json()["items"]
    assert [(i["application_id"], i["status"]) for i in queued] == [(app_id, "pending_materials")]

    assert await upload("labor_contract") == "pending_materials"
    assert await upload("residence_photo") == "pending_review"

    detail = (await client.get(f"/v1/staff/applications/{app_id}", headers=staff)).json()
    assert detail["decision"]["outcome"] == "review"
    assert detail["missing_materials"] == []
    assert applicant.id_number not in str(detail)
    decided = await client.post(
        f"/v1/staff/applications/{app_id}/decision",
        json={"decision": "approve", "reason": "材料齐全，符合公租房保障条件"},
        headers=staff,
    )
    assert decided.status_code == 200, decided.text
    mine = (await client.get(f"/v1/applications/{app_id}", headers=headers)).json()
    assert mine["status"] == "approved"
    assert [h["to_status"] for h in mine["history"]] == [
        "submitted",
        "pending_materials",
        "pending_materials",  # tolerant acceptance, when it happened (its own entry)
        "pending_review",
        "approved",
    ]
