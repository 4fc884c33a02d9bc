"""Sandbox use cases. Demo data is loaded through these same functions."""

from __future__ import annotations

import uuid
from datetime import datetime
from uuid import UUID

import asyncpg

from haoban.audit.schemas import Actor
from haoban.citizens import service as citizens
from haoban.identity.stepup import FACE_ACR
from haoban.kit import idnumber
from haoban.kit.errors import FieldError, ValidationFailed
from haoban.runtime import Runtime
from haoban.sandbox import knobs_repository
from haoban.sandbox.schemas import ALLOWED_SCOPES, TestCitizen, TestCitizenCreate, TestTokenCreate
from haoban.tokens.schemas import SANDBOX_AMR, SessionGrant, TokenPair

SANDBOX_ACTOR = Actor(type="sandbox", id="sandbox")
SANDBOX_CLIENT = "haoban-sandbox"
SANDBOX_ACR = "urn:haoban:loa:sandbox"


def sandbox_grant(citizen_id: UUID, scope: tuple[str, ...], level: str, now: datetime) -> SessionGrant:
    """A tester's session. `level` "face" gives the face level without a camera; the amr always says sandbox,
    and the token service refuses such tokens once the sandbox is off."""
    face = level == "face"
    return SessionGrant(
        citizen_id=citizen_id,
        client_id=SANDBOX_CLIENT,
        scope=scope,
        acr=FACE_ACR if face else SANDBOX_ACR,
        amr=(("face",) if face else ()) + (SANDBOX_AMR,),
        auth_time=now,
    )


async def create_test_citizen(conn: asyncpg.Connection, runtime: Runtime, data: TestCitizenCreate) -> TestCitizen:
    citizen_id = data.citizen_id or uuid.uuid4()
    if data.id_number is not None and (why := idnumber.problem(data.id_number)):
        raise ValidationFailed(errors=[FieldError(field="id_number", reason=why)])
    created = await citizens.create_citizen(
        conn,
        citizen_id=citizen_id,
        now=runtime.clock.now(),
        actor=SANDBOX_ACTOR,
        id_number=data.id_number,
        vault=runtime.vault,
    )
    return TestCitizen(citizen_id=citizen_id, created=created)


async def mint_test_tokens(
    conn: asyncpg.Connection, runtime: Runtime, citizen_id: UUID, data: TestTokenCreate
) -> TokenPair:
    """Tokens for a test citizen, marked `amr: [..., "sandbox"]`; the face level only when asked for."""
    for i, scope in enumerate(data.scope):
        if scope not in ALLOWED_SCOPES:
            raise ValidationFailed(errors=[FieldError(field=f"scope[{i}]", reason=f"unknown scope {scope!r}")])
    citizen = await citizens.get_citizen(conn, citizen_id)
    grant = sandbox_grant(citizen.id, tuple(dict.fromkeys(data.scope)), data.acr, runtime.clock.now())
    return await runtime.tokens.issue(conn, grant, actor=SANDBOX_ACTOR)


async def clock_offset_s(conn: asyncpg.Connection) -> int:
    """How many seconds ahead of the real time a tester moved the sandbox clock (0 when never moved)."""
    return await knobs_repository.clock_offset(conn)
