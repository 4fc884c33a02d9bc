"""`Idempotency-Key` on POST /v1/applications (Stripe's semantics, Brandur's table).

Same key and body → the first answer again; same key, another body → 422;
same key while the first request runs → 409. A request that stored nothing
(bad input, a conflict) releases its key so the client may retry. A request
that died after creating its application is resumed from that application.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta
from typing import Any
from uuid import UUID

import msgspec

from haoban.applications import repository as repo
from haoban.db.pool import unit_of_work
from haoban.kit.errors import Conflict, FieldError, ValidationFailed
from haoban.runtime import Runtime

LOCK = timedelta(seconds=30)


class KeyReused(ValidationFailed):
    code = "idempotency_key_reused"


class RequestInProgress(Conflict):
    code = "request_in_progress"


class Replay(msgspec.Struct, frozen=True, kw_only=True):
    status: int
    body: bytes


class Proceed(msgspec.Struct, frozen=True, kw_only=True):
    """Run the request; `application_id` is set when an earlier run created it and then died."""

    application_id: UUID | None = None
    # The application's id planned when the key was first claimed: the fund centre's instruction id, the
    # same on every retry (a debit posted before a crash is found again, never posted twice).
    instruction_id: UUID | None = None


def request_hash(service_code: str, inputs: dict[str, Any]) -> bytes:
    canonical = msgspec.json.encode({"service_code": service_code, "inputs": inputs}, order="sorted")
    return hashlib.sha256(canonical).digest()


async def begin(runtime: Runtime, citizen_id: UUID, key: str, digest: bytes) -> Replay | Proceed:
    now = runtime.clock.now()
    ttl = timedelta(hours=runtime.settings.services.idempotency_ttl_h)
    async with unit_of_work(runtime.pool) as conn:
        claimed = await repo.claim_key(
            conn,
            citizen_id=citizen_id,
            key=key,
            request_hash=digest,
            locked_until=now + LOCK,
            at=now,
            expires_at=now + ttl,
            instruction_id=(planned := uuid.uuid4()),
        )
        if claimed:
            return Proceed(instruction_id=planned)
        row = await repo.get_key(conn, citizen_id, key, for_update=True)
        if row is None:  # released between the insert and the read: the client may simply retry
            raise RequestInProgress("Retry the request.", headers={"Retry-After": "1"})
        if row.request_hash != digest:
            raise KeyReused(
                "This Idempotency-Key was used with another request body.",
                errors=[FieldError(field="Idempotency-Key", reason="used with another body", source="header")],
            )
        if row.response_status is not None and row.response_body is not None:
            return Replay(status=row.response_status, body=row.response_body)
        if row.locked_until is not None and row.locked_until > now:
            raise RequestInProgress(
                "A request with this Idempotency-Key is still running.", headers={"Retry-After": "1"}
            )
        await repo.relock_key(conn, citizen_id, key, now + LOCK)
        return Proceed(application_id=row.application_id, instruction_id=row.instruction_id)


async def finish(runtime: Runtime, citizen_id: UUID, key: str, *, status: int, body: bytes) -> None:
    async with unit_of_work(runtime.pool) as conn:
        await repo.finish_key(conn, citizen_id, key, status=status, body=body)


async def unlock(runtime: Runtime, citizen_id: UUID, key: str) -> None:
    async with unit_of_work(runtime.pool) as conn:
        await repo.unlock_key(conn, citizen_id, key)


async def release(runtime: Runtime, citizen_id: UUID, key: str) -> None:
    async with unit_of_work(runtime.pool) as conn:
        await repo.release_key(conn, citizen_id, key)
