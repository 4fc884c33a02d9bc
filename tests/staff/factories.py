"""Factories for the manual lane: staff accounts, staff tokens, public-rental applications."""

from __future__ import annotations

import io
import uuid
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient
from PIL import Image

from haoban.applications import service as applications
from haoban.applications.lifecycle import Status
from haoban.applications.schemas import ApplicationRow
from haoban.audit.schemas import Actor
from haoban.db.batch import Batch
from haoban.staff import service as staff_service
from tests.factories import bearer, citizen_with_tokens

PASSWORD = "correct horse battery staple"
RENTAL = "housing.public_rental.apply"
HOUSING = "housing_security"
TEST_ACTOR = Actor(type="system", id="tests")
CITIZEN_SCOPES = ["openid", "applications.read", "applications.write"]


async def make_staff(
    db: asyncpg.Connection,
    *,
    username: str = "li.reviewer",
    departments: list[str] | None = None,
    roles: list[str] | None = None,
    citizen_id: UUID | None = None,
    id_number_hmac: bytes | None = None,
    now: datetime,
) -> UUID:
    async with db.transaction():
        return await staff_service.create_staff(
            db,
            username=username,
            display_name="李审核",
            password=PASSWORD,
            departments=departments or [HOUSING],
            roles=roles or ["reviewer"],
            citizen_id=citizen_id,
            id_number_hmac=id_number_hmac,
            actor=TEST_ACTOR,
            now=now,
        )


async def staff_login(
    client: AsyncTestClient[Litestar], username: str = "li.reviewer", password: str = PASSWORD
) -> dict[str, Any]:
    response = await client.post("/v1/staff/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def staff_headers(client: AsyncTestClient[Litestar], username: str = "li.reviewer") -> dict[str, str]:
    return bearer((await staff_login(client, username))["access_token"])


async def citizen(client: AsyncTestClient[Litestar]) -> tuple[UUID, dict[str, str]]:
    citizen_id, tokens = await citizen_with_tokens(client, scope=CITIZEN_SCOPES)
    return UUID(citizen_id), bearer(tokens["access_token"])


async def application(
    db: asyncpg.Connection,
    citizen_id: UUID,
    *,
    at: datetime,
    status: Status = "submitted",
    service_code: str = RENTAL,
    department: str = HOUSING,
) -> UUID:
    """A fresh application row through the core's own use cases (submitted, then moved to `status`)."""
    row = ApplicationRow(
        id=uuid.uuid4(),
        citizen_id=citizen_id,
        service_code=service_code,
        period=uuid.uuid4().hex[:8],
        department=department,
        status="submitted",
        status_reason=None,
        inputs={"household_size": 2, "monthly_income_fen": 150000},
        decision_id=None,
        outcome=None,
        amount_fen=None,
        created_at=at,
        updated_at=at,
    )
    actor = Actor(type="citizen", id=str(citizen_id))
    async with db.transaction():
        b = Batch()
        applications.add_new(b, "app", row, actor=actor, at=at)
        await b.fetchrow(db)
        if status != "submitted":
            await applications.transition(db, row.id, status, actor=actor, reason="tests", at=at)
    return row.id


def jpeg(size: tuple[int, int] = (32, 24)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(buf, format="JPEG")
    return buf.getvalue()


def png(size: tuple[int, int] = (16, 16)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (10, 200, 40)).save(buf, format="PNG")
    return buf.getvalue()


async def citizen_headers(client: AsyncTestClient[Litestar], citizen_id: UUID) -> dict[str, str]:
    """A new token for an existing test citizen (after the clock moved past the old one's life)."""
    minted = await client.post(f"/sandbox/citizens/{citizen_id}/tokens", json={"scope": CITIZEN_SCOPES})
    assert minted.status_code == 201, minted.text
    return bearer(minted.json()["access_token"])


async def reviewable(
    client: AsyncTestClient[Litestar],
    db: asyncpg.Connection,
    citizen_id: UUID,
    headers: dict[str, str],
    *,
    at: datetime,
) -> UUID:
    """A public-rental application with every material and the signed letter, pending review."""
    app_id = await application(db, citizen_id, at=at)
    for code in ("income_proof", "labor_contract", "residence_photo"):
        uploaded = await client.post(
            f"/v1/applications/{app_id}/materials?code={code}", content=jpeg(), headers=headers
        )
        assert uploaded.status_code == 201, uploaded.text
    accepted = await client.post(
        f"/v1/applications/{app_id}/acceptance", json={"authorization_version": "2026-11"}, headers=headers
    )
    assert accepted.json()["status"] == "pending_review", accepted.text
    return app_id
