"""The manual lane: queue scoped to departments, detail, decisions, own-application refusal."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast
from uuid import UUID

import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.kit.clock import FrozenClock
from haoban.kit.masking import mask_id_number
from haoban.rules.registry import sync_rule_sets
from haoban.rules.schemas import Decision, Fact, TraceStep
from haoban.runtime import Runtime
from tests.factories import stored_decision
from tests.sandbox import bodies
from tests.staff.factories import RENTAL, application, citizen, make_staff, reviewable, staff_headers


async def _queue(client: AsyncTestClient[Litestar], headers: dict[str, str], **params: Any) -> dict[str, object]:
    response = await client.get("/v1/staff/queue", headers=headers, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def _ids(page: dict[str, object]) -> list[str]:
    items = page["items"]
    assert isinstance(items, list)
    return [item["application_id"] for item in items]


async def test_queue_shows_only_my_departments_pending_work_oldest_first(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, clock: FrozenClock
) -> None:
    await make_staff(db, now=clock.now())
    citizen_id, _ = await citizen(client)
    t0 = clock.now()
    older = await application(db, citizen_id, at=t0, status="pending_review")
    newer = await application(db, citizen_id, at=t0 + timedelta(minutes=1), status="pending_materials")
    await application(db, citizen_id, at=t0, status="submitted")
    await application(db, citizen_id, at=t0, status="pending_review", department="hpf")
    await application(db, citizen_id, at=t0, status="rejected")

    page = await _queue(client, await staff_headers(client))

    assert _ids(page) == [str(older), str(newer)]
    items = page["items"]
    assert isinstance(items, list)
    assert {item["department"] for item in items} == {"housing_security"}
    assert page["next_after"] is None


async def test_queue_pages_with_a_clamped_limit(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, clock: FrozenClock
) -> None:
    await make_staff(db, now=clock.now())
    citizen_id, _ = await citizen(client)
    ids = [
        await application(db, citizen_id, at=clock.now() + timedelta(seconds=i), status="pending_review")
        for i in range(3)
    ]
    headers = await staff_headers(client)

    first = await _queue(client, headers, limit=0)  # clamped up to 1
    assert _ids(first) == [str(ids[0])]
    second = await _queue(client, headers, limit=2, after=first["next_after"])
    assert _ids(second) == [str(ids[1]), str(ids[2])]
    assert second["next_after"] is None
    huge = await _queue(client, headers, limit=100_000)  # clamped down to 100
    assert len(_ids(huge)) == 3
    bad = await client.get("/v1/staff/queue", headers=headers, params={"after": "not-a-cursor"})
    assert bad.status_code == 422


async def test_queue_shows_least_data(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, clock: FrozenClock
) -> None:
    await make_staff(db, now=clock.now())
    citizen_id, _ = await citizen(client)
    await application(db, citizen_id, at=clock.now(), status="pending_review")
    page = await _queue(client, await staff_headers(client))
    items = page["items"]
    assert isinstance(items, list)
    assert set(items[0]) == {
        "application_id",
        "service_code",
        "department",
        "status",
        "applicant",
        "submitted_at",
        "updated_at",
    }
    assert str(citizen_id) not in str(page)


async def test_detail_of_another_department_is_404_like_a_missing_one(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, clock: FrozenClock
) -> None:
    await make_staff(db, now=clock.now())
    citizen_id, _ = await citizen(client)
    elsewhere = await application(db, citizen_id, at=clock.now(), status="pending_review", department="hpf")
    headers = await staff_headers(client)
    other = await client.get(f"/v1/staff/applications/{elsewhere}", headers=headers)
    missing = await client.get("/v1/staff/applications/0b9d6a52-3c1e-4f0a-9b8e-0000000000a1", headers=headers)
    assert other.status_code == missing.status_code == 404
    decided = await client.post(
        f"/v1/staff/applications/{elsewhere}/decision",
        json={"decision": "approve", "reason": "fine"},
        headers=headers,
    )
    assert decided.status_code == 404
    assert await db.fetchval("SELECT status FROM applications WHERE id = $1", elsewhere) == "pending_review"


async def test_detail_shows_history_and_materials_and_is_audited(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, clock: FrozenClock
) -> None:
    staff_id = await make_staff(db, now=clock.now())
    citizen_id, _ = await citizen(client)
    app_id = await application(db, citizen_id, at=clock.now(), status="pending_review")
    response = await client.get(f"/v1/staff/applications/{app_id}", headers=await staff_headers(client))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "pending_review"
    assert [h["to_status"] for h in body["history"]] == ["submitted", "pending_review"]
    assert body["materials"] == []
    assert body["missing_materials"] == ["income_proof", "labor_contract", "residence_photo", "commitment_letter"]
    viewed = await db.fetchval(
        "SELECT count(*) FROM audit_events WHERE action = 'staff.application_viewed' AND actor_id = $1",
        str(staff_id),
    )
    assert viewed == 1


async def test_approving_moves_the_application_and_audits_the_staff_member(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, clock: FrozenClock
) -> None:
    staff_id = await make_staff(db, now=clock.now())
    citizen_id, citizen_auth = await citizen(client)
    app_id = await reviewable(client, db, citizen_id, citizen_auth, at=clock.now())
    response = await client.post(
        f"/v1/staff/applications/{app_id}/decision",
        json={"decision": "approve", "reason": "收入与住房情况符合条件"},
        headers=await staff_headers(client),
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "approved"
    assert response.json()["decided_by"] == "li.reviewer"
    event = cast(
        "asyncpg.Record",
        await db.fetchrow(
            "SELECT actor_type, actor_id, reason FROM application_events"
            " WHERE application_id = $1 AND to_status = 'approved'",
            app_id,
        ),
    )
    assert tuple(event) == ("staff", str(staff_id), "收入与住房情况符合条件")
    actions = {
        r["action"] for r in await db.fetch("SELECT action FROM audit_events WHERE actor_id = $1", str(staff_id))
    }
    assert {"application.approved", "staff.decided.approve"} <= actions


async def test_rejecting_records_the_reason(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, clock: FrozenClock
) -> None:
    await make_staff(db, now=clock.now())
    citizen_id, _ = await citizen(client)
    app_id = await application(db, citizen_id, at=clock.now(), status="pending_review")
    response = await client.post(
        f"/v1/staff/applications/{app_id}/decision",
        json={"decision": "reject", "reason": "declared income above the limit"},
        headers=await staff_headers(client),
    )
    assert response.status_code == 200, response.text
    row = cast(
        "asyncpg.Record", await db.fetchrow("SELECT status, status_reason FROM applications WHERE id = $1", app_id)
    )
    assert tuple(row) == ("rejected", "declared income above the limit")


async def test_deciding_an_application_not_pending_review_is_409(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, clock: FrozenClock
) -> None:
    await make_staff(db, now=clock.now())
    citizen_id, _ = await citizen(client)
    headers = await staff_headers(client)
    for status in ("pending_materials", "submitted"):
        app_id = await application(db, citizen_id, at=clock.now(), status=status)
        response = await client.post(
            f"/v1/staff/applications/{app_id}/decision",
            json={"decision": "approve", "reason": "fine"},
            headers=headers,
        )
        assert response.status_code == 409, response.text
        assert response.json()["code"] == "not_pending_review"
        assert await db.fetchval("SELECT status FROM applications WHERE id = $1", app_id) == status


async def test_deciding_twice_is_409(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, clock: FrozenClock
) -> None:
    await make_staff(db, now=clock.now())
    citizen_id, citizen_auth = await citizen(client)
    app_id = await reviewable(client, db, citizen_id, citizen_auth, at=clock.now())
    headers = await staff_headers(client)
    body = {"decision": "approve", "reason": "fine"}
    assert (
        await client.post(f"/v1/staff/applications/{app_id}/decision", json=body, headers=headers)
    ).status_code == 200
    again = await client.post(f"/v1/staff/applications/{app_id}/decision", json=body, headers=headers)
    assert again.status_code == 409


async def test_nobody_decides_their_own_application(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, clock: FrozenClock
) -> None:
    citizen_id, _ = await citizen(client)
    staff_id = await make_staff(db, citizen_id=citizen_id, now=clock.now())
    app_id = await application(db, citizen_id, at=clock.now(), status="pending_review")
    response = await client.post(
        f"/v1/staff/applications/{app_id}/decision",
        json={"decision": "approve", "reason": "my own, approved"},
        headers=await staff_headers(client),
    )
    assert response.status_code == 403
    assert response.json()["code"] == "own_application"
    assert await db.fetchval("SELECT status FROM applications WHERE id = $1", app_id) == "pending_review"
    refused = await db.fetchval(
        "SELECT count(*) FROM audit_events WHERE action = 'staff.own_application_refused' AND actor_id = $1",
        str(staff_id),
    )
    assert refused == 1


async def test_own_application_is_matched_by_id_number_too(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, clock: FrozenClock, app: Litestar
) -> None:
    """A staff account made with only an ID number still never decides that person's application."""
    id_number = bodies.person(77)
    created = await client.post("/sandbox/citizens", json={"id_number": id_number})
    assert created.status_code == 201, created.text
    citizen_id = UUID(created.json()["citizen_id"])
    runtime: Runtime = app.state.runtime
    await make_staff(db, id_number_hmac=runtime.vault.index(id_number), now=clock.now())
    app_id = await application(db, citizen_id, at=clock.now(), status="pending_review")
    response = await client.post(
        f"/v1/staff/applications/{app_id}/decision",
        json={"decision": "approve", "reason": "fine"},
        headers=await staff_headers(client),
    )
    assert response.status_code == 403


async def test_a_colleague_may_decide_it(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, clock: FrozenClock
) -> None:
    citizen_id, citizen_auth = await citizen(client)
    await make_staff(db, citizen_id=citizen_id, now=clock.now())
    await make_staff(db, username="zhang.colleague", now=clock.now())
    app_id = await reviewable(client, db, citizen_id, citizen_auth, at=clock.now())
    response = await client.post(
        f"/v1/staff/applications/{app_id}/decision",
        json={"decision": "approve", "reason": "fine"},
        headers=await staff_headers(client, "zhang.colleague"),
    )
    assert response.status_code == 200, response.text


async def test_approving_is_refused_while_materials_are_incomplete_but_rejecting_is_not(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, clock: FrozenClock
) -> None:
    await make_staff(db, now=clock.now())
    citizen_id, _ = await citizen(client)
    app_id = await application(db, citizen_id, at=clock.now(), status="pending_review")
    headers = await staff_headers(client)
    approve = await client.post(
        f"/v1/staff/applications/{app_id}/decision", json={"decision": "approve", "reason": "fine"}, headers=headers
    )
    assert approve.status_code == 409
    assert approve.json()["code"] == "materials_incomplete"
    assert approve.json()["extra"]["missing"] == [
        "income_proof",
        "labor_contract",
        "residence_photo",
        "commitment_letter",
    ]
    reject = await client.post(
        f"/v1/staff/applications/{app_id}/decision",
        json={"decision": "reject", "reason": "no materials"},
        headers=headers,
    )
    assert reject.status_code == 200, reject.text


async def test_detail_shows_the_trace_and_provenance_with_personal_numbers_masked(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, clock: FrozenClock
) -> None:
    await sync_rule_sets(db)
    version = await db.fetchval("SELECT version FROM rule_sets WHERE service_code = $1 LIMIT 1", RENTAL)
    member_id_number = bodies.person(88)
    facts = {
        "identity.name": Fact(value="格蕾丝", source="identity", system="公安人口库", trust_level="A"),
        "household.members": Fact(
            value=[{"name": "张三", "id_number": member_id_number, "relation": "spouse"}],
            source="household",
            trust_level="A",
        ),
    }
    trace = [
        TraceStep(
            rule_id="resident_in_city",
            inputs={"household.city": "郑州"},
            passed=True,
            message_zh="本市户籍",
            message_en="Registered in the city",
            reason=None,
        )
    ]
    decision = Decision(outcome="review", rule_set_version=version, amount_fen=None, reasons=[], trace=trace)
    await make_staff(db, now=clock.now())
    citizen_id, _ = await citizen(client)
    app_id = await application(db, citizen_id, at=clock.now(), status="pending_review")
    decision_id = await stored_decision(
        db, decision=decision, facts=facts, service_code=RENTAL, application_id=app_id, at=clock.now()
    )
    await db.execute("UPDATE applications SET decision_id = $2 WHERE id = $1", app_id, decision_id)
    headers = await staff_headers(client)

    page = await _queue(client, headers)
    items = page["items"]
    assert isinstance(items, list)
    assert items[0]["applicant"] == "格**"
    body = (await client.get(f"/v1/staff/applications/{app_id}", headers=headers)).json()
    assert body["applicant"] == "格**"
    assert body["decision"]["trace"][0]["rule_id"] == "resident_in_city"
    assert body["facts"]["identity.name"]["value"] == "格**"
    assert body["facts"]["identity.name"]["system"] == "公安人口库"
    assert body["facts"]["household.members"]["trust_level"] == "A"
    assert member_id_number not in str(body)
    assert body["facts"]["household.members"]["value"][0]["id_number"] == mask_id_number(member_id_number)
