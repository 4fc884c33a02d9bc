"""Citizen account use cases."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from haoban.audit import repository as audit
from haoban.audit.schemas import Actor
from haoban.citizens import repository as repo
from haoban.citizens.schemas import Citizen, Me, SessionView
from haoban.kit.errors import NotFound
from haoban.tokens.schemas import Principal


async def create_citizen(conn: asyncpg.Connection, *, citizen_id: UUID, now: datetime, actor: Actor) -> bool:
    """Create an account; False when it already exists (idempotent)."""
    created = await repo.insert(conn, citizen_id=citizen_id, created_at=now)
    if created:
        await audit.record(
            conn, actor=actor, action="citizen.created", subject_type="citizen", subject_id=str(citizen_id), at=now
        )
    return created


async def get_citizen(conn: asyncpg.Connection, citizen_id: UUID) -> Citizen:
    citizen = await repo.get(conn, citizen_id)
    if citizen is None:
        raise NotFound("No such citizen.")
    return citizen


async def me(conn: asyncpg.Connection, principal: Principal) -> Me:
    citizen = await get_citizen(conn, principal.citizen_id)
    return Me(
        citizen_id=citizen.id,
        status=citizen.status,
        created_at=citizen.created_at,
        session=SessionView(
            client_id=principal.client_id,
            scope=" ".join(principal.scope),
            acr=principal.acr,
            amr=list(principal.amr),
            auth_time=principal.auth_time,
        ),
    )
