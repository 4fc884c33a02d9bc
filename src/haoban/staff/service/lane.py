"""Manual-lane use cases: the queue, one application for review, a staff decision.

A staff member sees only the applications of their departments (any other is
404, exactly like one that does not exist) and never decides their own (403),
matched by citizen account or by ID-number blind index.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

import asyncpg
import msgspec

from haoban.applications import service as applications
from haoban.applications.schemas import ApplicationRow
from haoban.audit import service as audit
from haoban.audit.schemas import Actor
from haoban.citizens import service as citizens
from haoban.fundcentre.ports import FundCentre
from haoban.kit.crypto import FieldCipher
from haoban.kit.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from haoban.kit.masking import mask_name, scrub
from haoban.materials import service as materials
from haoban.rules import service as decisions
from haoban.staff.schemas import (
    DecisionCreate,
    DecisionResult,
    HistoryEntry,
    MaterialMeta,
    QueueItem,
    QueuePage,
    StaffApplication,
    StaffPrincipal,
)

MAX_LIMIT = 100
UNKNOWN_NAME = "*"


class OwnApplication(Forbidden):
    code = "own_application"


class NotPendingReview(Conflict):
    code = "not_pending_review"


class MaterialsIncomplete(Conflict):
    code = "materials_incomplete"


def staff_actor(staff: StaffPrincipal) -> Actor:
    return Actor(type="staff", id=str(staff.staff_id))


def _masked(name: str | None) -> str:
    return mask_name(name) if name else UNKNOWN_NAME


def scrub_deep(value: Any) -> Any:
    """Mask ID and phone numbers anywhere in facts and traces (household members carry ID numbers)."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, list):
        return [scrub_deep(v) for v in value]
    if isinstance(value, dict):
        return {k: scrub_deep(v) for k, v in value.items()}
    return value


def clamp(limit: int) -> int:
    return max(1, min(limit, MAX_LIMIT))


def encode_cursor(at: datetime, application_id: UUID) -> str:
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{application_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, _, application_id = raw.partition("|")
        parsed = datetime.fromisoformat(at)
        if parsed.tzinfo is None:
            raise ValueError("naive")
        return parsed, UUID(application_id)
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed(
            errors=[FieldError(field="after", reason="not a cursor from next_after", source="query")]
        ) from None


async def queue(conn: asyncpg.Connection, staff: StaffPrincipal, *, limit: int, after: str | None) -> QueuePage:
    size = clamp(limit)
    rows = await applications.review_queue(
        conn,
        departments=staff.departments,
        after=decode_cursor(after) if after else None,
        limit=size + 1,
    )
    more = len(rows) > size
    rows = rows[:size]
    items = [
        QueueItem(
            application_id=r.id,
            service_code=r.service_code,
            department=r.department,
            status=r.status,
            applicant=_masked(r.name),
            submitted_at=r.created_at,
            updated_at=r.updated_at,
        )
        for r in rows
    ]
    last = rows[-1] if more and rows else None
    return QueuePage(items=items, next_after=encode_cursor(last.created_at, last.id) if last else None)


async def _in_departments(
    conn: asyncpg.Connection, staff: StaffPrincipal, application_id: UUID, *, for_update: bool = False
) -> ApplicationRow:
    row = await applications.find(conn, application_id, for_update=for_update)
    if row is None or row.department not in staff.departments:
        raise NotFound("There is no such application.")
    return row


async def is_own(conn: asyncpg.Connection, staff: StaffPrincipal, row: ApplicationRow) -> bool:
    if staff.citizen_id is not None and staff.citizen_id == row.citizen_id:
        return True
    if staff.id_number_hmac is None:
        return False
    return await citizens.id_number_hmac(conn, row.citizen_id) == staff.id_number_hmac


async def application(
    conn: asyncpg.Connection, staff: StaffPrincipal, application_id: UUID, *, now: datetime
) -> StaffApplication:
    """Everything a reviewer needs; the view itself is audited (personal data was shown)."""
    row = await _in_departments(conn, staff, application_id)
    stored = await decisions.get_decision(conn, row.decision_id) if row.decision_id else None
    facts: dict[str, Any] = scrub_deep(msgspec.to_builtins(stored.facts)) if stored else {}
    decision: dict[str, Any] | None = scrub_deep(msgspec.to_builtins(stored.decision)) if stored else None
    name = facts.get("identity.name", {}).get("value") if isinstance(facts.get("identity.name"), dict) else None
    if "identity.name" in facts:
        facts["identity.name"] = {**facts["identity.name"], "value": _masked(name)}
    uploaded = await materials.uploaded(conn, row.id)
    missing = await materials.still_missing(conn, row)
    notice = await materials.notice_of(conn, row.id)
    history = [
        msgspec.convert(e, HistoryEntry, from_attributes=True) for e in await applications.review_history(conn, row.id)
    ]
    await audit.record(
        conn,
        actor=staff_actor(staff),
        action="staff.application_viewed",
        subject_type="application",
        subject_id=str(row.id),
        at=now,
    )
    return StaffApplication(
        application_id=row.id,
        service_code=row.service_code,
        department=row.department,
        status=row.status,
        status_reason=row.status_reason,
        applicant=_masked(name),
        inputs=row.inputs,
        submitted_at=row.created_at,
        updated_at=row.updated_at,
        decision=decision,
        facts=facts,
        materials=[
            MaterialMeta(
                material_id=m.material_id,
                code=m.code,
                content_type=m.content_type,
                size_bytes=m.size_bytes,
                sha256=m.sha256,
                trust_level=m.trust_level,
                uploaded_at=m.uploaded_at,
            )
            for m in uploaded
        ],
        missing_materials=missing,
        notice=msgspec.to_builtins(notice) if notice else None,
        history=history,
        amount_fen=await applications.amount_on_approval(conn, row, stored),
    )


async def decide(
    conn: asyncpg.Connection,
    staff: StaffPrincipal,
    application_id: UUID,
    data: DecisionCreate,
    *,
    now: datetime,
    cipher: FieldCipher,
    fund_centre: FundCentre,
) -> DecisionResult | OwnApplication:
    """`pending_review → approved | rejected` by a staff member of the application's department.

    The own-application refusal is returned, not raised, so its audit row commits.
    """
    row = await _in_departments(conn, staff, application_id, for_update=True)
    actor = staff_actor(staff)
    if await is_own(conn, staff, row):
        await audit.record(
            conn,
            actor=actor,
            action="staff.own_application_refused",
            subject_type="application",
            subject_id=str(row.id),
            at=now,
        )
        return OwnApplication("Nobody decides their own application; another reviewer must.")
    if row.status != "pending_review":
        raise NotPendingReview(
            f"Only an application pending review can be decided; this one is {row.status}.",
            extra={"status": row.status},
        )
    if data.decision == "approve" and (missing := await materials.still_missing(conn, row)):
        raise MaterialsIncomplete(
            "The applicant has not supplied every material yet; it can only be rejected.",
            extra={"missing": missing},
        )
    to: Literal["approved", "rejected"] = "approved" if data.decision == "approve" else "rejected"
    row = await applications.decide_reviewed(
        conn, row.id, to, actor=actor, reason=data.reason, at=now, cipher=cipher, fund_centre=fund_centre
    )
    await audit.record(
        conn,
        actor=actor,
        action=f"staff.decided.{data.decision}",
        subject_type="application",
        subject_id=str(row.id),
        at=now,
        details={"reason": data.reason, "username": staff.username},
    )
    return DecisionResult(
        application_id=row.id,
        status=row.status,
        decision=data.decision,
        reason=data.reason,
        decided_by=staff.username,
        decided_at=now,
    )
