"""1+1+N use cases: uploads, the signed letters, tolerant acceptance (容缺受理) and its deadline.

"1+1+N": the ID is linked by sharing (trust A); one authorization and
commitment letter is signed in the app (a consent record plus a signature row,
trust D); N self-certified uploads (trust C) cover what is not shared yet.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from datetime import datetime
from uuid import UUID

import asyncpg

from haoban.applications import service as applications
from haoban.applications.schemas import ApplicationRow
from haoban.audit import service as audit
from haoban.audit.schemas import Actor
from haoban.catalog.schemas import Material as CatalogMaterial
from haoban.catalog.schemas import Service
from haoban.catalog.service import shared_items
from haoban.exchange.consent.schemas import ConsentCreate, Purpose
from haoban.exchange.consent.service import grant_consent
from haoban.kit.errors import AppError, Conflict, FieldError, NotFound, ValidationFailed
from haoban.materials import files, letters, requirements
from haoban.materials import repository as repo
from haoban.materials.schemas import (
    Acceptance,
    AcceptanceCreate,
    ChecklistItem,
    Material,
    MaterialsStatus,
    MissingItem,
    Notice,
)
from haoban.materials.workdays import end_of_day, local_day
from haoban.runtime import Runtime

OPEN = ("submitted", "pending_materials")
MAX_UPLOADS = 30
DEADLINE_REASON = "materials_deadline_missed"
EXPIRY_ACTOR = Actor(type="system", id="materials")


class MaterialsNotApplicable(Conflict):
    code = "materials_not_applicable"


class MaterialsClosed(Conflict):
    code = "materials_closed"


class MaterialRejected(ValidationFailed):
    code = "material_rejected"


class PrimaryMaterialMissing(ValidationFailed):
    code = "primary_material_missing"


class MaterialsMissing(ValidationFailed):
    code = "materials_missing"


class DeadlineMissed(Conflict):
    code = "materials_deadline_missed"


def _citizen(citizen_id: UUID) -> Actor:
    return Actor(type="citizen", id=str(citizen_id))


def _service(row: ApplicationRow) -> Service:
    svc = requirements.service(row.service_code)
    if svc is None or not requirements.takes_materials(svc):
        raise MaterialsNotApplicable("This service asks for no materials from the applicant.")
    return svc


def _missing_items(items: list[CatalogMaterial]) -> list[MissingItem]:
    out = []
    for m in items:
        how_zh, how_en = requirements.how(m)
        out.append(MissingItem(code=m.code, name_zh=m.name_zh, name_en=m.name_en, how_zh=how_zh, how_en=how_en))
    return out


def _field_errors(items: list[CatalogMaterial]) -> list[FieldError]:
    return [
        FieldError(field=f"materials.{m.code}", reason=f"{m.name_en} ({m.name_zh}) is missing", source="materials")
        for m in items
    ]


async def _locked(conn: asyncpg.Connection, application_id: UUID) -> ApplicationRow:
    row = await applications.find(conn, application_id, for_update=True)
    if row is None:  # pragma: no cover - checked by the caller in the same transaction
        raise NotFound("There is no such application.")
    return row


async def status(conn: asyncpg.Connection, *, citizen_id: UUID, application_id: UUID) -> MaterialsStatus:
    row = await applications.owned(conn, application_id, citizen_id)
    svc = _service(row)
    return await materials_status(conn, row, svc)


async def materials_status(conn: asyncpg.Connection, row: ApplicationRow, svc: Service) -> MaterialsStatus:
    uploaded = await repo.materials_of(conn, row.id)
    supplied = {m.code for m in uploaded}
    checklist = []
    for m in requirements.uploads(svc):
        how_zh, how_en = requirements.how(m)
        checklist.append(
            ChecklistItem(
                code=m.code,
                name_zh=m.name_zh,
                name_en=m.name_en,
                primary=m.primary,
                how_zh=how_zh,
                how_en=how_en,
                supplied=m.code in supplied,
            )
        )
    return MaterialsStatus(
        application_id=row.id,
        status=row.status,
        checklist=checklist,
        materials=uploaded,
        signatures=await repo.signatures_of(conn, row.id),
        notice=await repo.notice_of(conn, row.id),
    )


async def uploaded(conn: asyncpg.Connection, application_id: UUID) -> list[Material]:
    """The application's uploads, oldest first (metadata only)."""
    return await repo.materials_of(conn, application_id)


async def notice_of(conn: asyncpg.Connection, application_id: UUID) -> Notice | None:
    """The application's supplement notice (容缺受理), open or closed; None when there was none."""
    return await repo.notice_of(conn, application_id)


async def still_missing(conn: asyncpg.Connection, row: ApplicationRow) -> list[str]:
    """What the applicant has not supplied yet: upload codes, and the letter (`commitment_letter`) if unsigned."""
    svc = requirements.service(row.service_code)
    if svc is None or not requirements.takes_materials(svc):
        return []
    supplied = {m.code for m in await repo.materials_of(conn, row.id)}
    primary, secondary = requirements.missing(svc, supplied)
    missing = [m.code for m in (*primary, *secondary)]
    if "authorization" not in {s.kind for s in await repo.signatures_of(conn, row.id)}:
        missing.append(requirements.LETTER_CODE)
    return missing


async def upload(
    conn: asyncpg.Connection,
    runtime: Runtime,
    *,
    citizen_id: UUID,
    application_id: UUID,
    code: str,
    content: bytes,
    declared_type: str | None,
) -> tuple[Material, ApplicationRow] | AppError:
    """Store one self-certified upload (trust C) with its SHA-256.

    When it completes a tolerant acceptance the application goes to review.
    An upload after the notice's deadline rejects the application; that error
    is returned, not raised, so the rejection commits.
    """
    row = await applications.owned(conn, application_id, citizen_id)
    svc = _service(row)
    if code not in requirements.upload_codes(svc):
        allowed = ", ".join(requirements.upload_codes(svc))
        raise MaterialRejected(
            "This service does not take that material.",
            errors=[FieldError(field="code", reason=f"must be one of: {allowed}", source="query")],
        )
    content_type, why = await asyncio.to_thread(files.problem, content, declared_type)
    if content_type is None:
        raise MaterialRejected("The file is not accepted.", errors=[FieldError(field="body", reason=why or "")])
    row = await _locked(conn, application_id)
    now = runtime.clock.now()
    notice = await repo.notice_of(conn, row.id, for_update=True)
    if notice is not None and notice.status == "open" and notice.deadline_at <= now:
        await _expire(conn, row, notice, now)
        return DeadlineMissed("The deadline for the missing materials has passed; the application is rejected.")
    if row.status not in OPEN:
        raise MaterialsClosed(f"An application that is {row.status} takes no more materials.")
    if await repo.count_materials(conn, row.id) >= MAX_UPLOADS:
        raise MaterialsClosed(f"An application takes at most {MAX_UPLOADS} uploads.")
    material = await repo.insert_material(
        conn,
        material_id=uuid.uuid4(),
        application_id=row.id,
        citizen_id=citizen_id,
        code=code,
        content_type=content_type,
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        trust_level="C",
        at=now,
    )
    await audit.record(
        conn,
        actor=_citizen(citizen_id),
        action="material.uploaded",
        subject_type="application",
        subject_id=str(row.id),
        at=now,
        details={"code": code, "sha256": material.sha256, "size_bytes": material.size_bytes},
    )
    if notice is not None and notice.status == "open" and row.status == "pending_materials":
        supplied = {m.code for m in await repo.materials_of(conn, row.id)}
        if all(item.code in supplied for item in notice.missing):
            await repo.close_notice(conn, notice.notice_id, fulfilled=True, at=now)
            row = await applications.transition(
                conn, row.id, "pending_review", actor=_citizen(citizen_id), reason="materials_supplied", at=now
            )
    return material, row


async def accept(
    conn: asyncpg.Connection, runtime: Runtime, *, citizen_id: UUID, application_id: UUID, data: AcceptanceCreate
) -> Acceptance:
    """Sign the letter(s) and accept: complete → review; only secondary missing → tolerant acceptance."""
    row = await applications.owned(conn, application_id, citizen_id)
    svc = _service(row)
    row = await _locked(conn, application_id)
    existing = await repo.notice_of(conn, row.id)
    if existing is not None:  # one notice per application: asking again returns it
        return Acceptance(application_id=row.id, status=row.status, accepted="tolerant", notice=existing)
    if row.status not in OPEN:
        raise MaterialsClosed(f"An application that is {row.status} cannot be accepted again.")
    _check_version("authorization_version", data.authorization_version)
    supplied = {m.code for m in await repo.materials_of(conn, row.id)}
    primary, secondary = requirements.missing(svc, supplied)
    if primary:
        raise PrimaryMaterialMissing(
            "Primary materials are missing; they cannot be supplied later.",
            errors=_field_errors(primary),
            extra={"missing": [m.code for m in primary]},
        )
    if secondary and not svc.tolerant_acceptance:
        raise MaterialsMissing("Materials are missing.", errors=_field_errors(secondary))
    if secondary and data.tolerant_commitment_version is None:
        raise MaterialsMissing(
            "Secondary materials are missing: sign the tolerant-acceptance commitment to be accepted now "
            "and supply them later.",
            errors=_field_errors(secondary),
            extra={"missing": [m.code for m in secondary], "tolerant_acceptance": True},
        )
    now = runtime.clock.now()
    await _sign_authorization(conn, runtime, row, svc, now)
    if not secondary:
        row = await applications.transition(
            conn, row.id, "pending_review", actor=_citizen(citizen_id), reason="materials_complete", at=now
        )
        return Acceptance(application_id=row.id, status=row.status, accepted="complete", notice=None)
    _check_version("tolerant_commitment_version", data.tolerant_commitment_version or "")
    notice = await _issue_notice(conn, row, svc, secondary, now)
    if row.status == "submitted":
        row = await applications.transition(
            conn, row.id, "pending_materials", actor=_citizen(citizen_id), reason="tolerant_acceptance", at=now
        )
    await applications.record_tolerant_acceptance(
        conn,
        row,
        actor=_citizen(citizen_id),
        deadline=notice.deadline,
        missing=[(m.name_zh, m.name_en) for m in secondary],
        at=now,
    )
    return Acceptance(application_id=row.id, status=row.status, accepted="tolerant", notice=notice)


def _check_version(field: str, version: str) -> None:
    if version != letters.VERSION:
        raise ValidationFailed(
            "Sign the current version of the letter.",
            errors=[FieldError(field=field, reason=f"the current version is {letters.VERSION}")],
        )


async def _sign_authorization(
    conn: asyncpg.Connection, runtime: Runtime, row: ApplicationRow, svc: Service, now: datetime
) -> None:
    """The "1" letter: a consent record for this application's shared items, and the signature row."""
    signed = {s.kind for s in await repo.signatures_of(conn, row.id)}
    if "authorization" in signed:
        return
    consent = await grant_consent(
        conn,
        runtime,
        row.citizen_id,
        ConsentCreate(
            purpose=Purpose(kind="application", ref=str(row.id)),
            items=shared_items(svc),
            terms_version=letters.VERSION,
        ),
    )
    await _sign(conn, row, "authorization", consent.id, now)


async def _sign(
    conn: asyncpg.Connection, row: ApplicationRow, kind: letters.LetterKind, consent_id: UUID | None, now: datetime
) -> None:
    text_sha256 = letters.sha256(kind)
    if await repo.insert_signature(
        conn,
        signature_id=uuid.uuid4(),
        application_id=row.id,
        citizen_id=row.citizen_id,
        kind=kind,
        version=letters.VERSION,
        text_sha256=text_sha256,
        consent_id=consent_id,
        at=now,
    ):
        await audit.record(
            conn,
            actor=_citizen(row.citizen_id),
            action=f"letter.signed.{kind}",
            subject_type="application",
            subject_id=str(row.id),
            at=now,
            details={"version": letters.VERSION, "text_sha256": text_sha256},
        )


async def _issue_notice(
    conn: asyncpg.Connection, row: ApplicationRow, svc: Service, items: list[CatalogMaterial], now: datetime
) -> Notice:
    await _sign(conn, row, "tolerant", None, now)
    deadline = requirements.supplement_deadline(svc, local_day(now))
    notice = await repo.insert_notice(
        conn,
        notice_id=uuid.uuid4(),
        application_id=row.id,
        missing=_missing_items(items),
        deadline=deadline,
        deadline_at=end_of_day(deadline),
        texts=letters.notice_texts(svc, items, deadline),
        at=now,
    )
    await audit.record(
        conn,
        actor=_citizen(row.citizen_id),
        action="material.tolerant_accepted",
        subject_type="application",
        subject_id=str(row.id),
        at=now,
        details={"missing": [m.code for m in items], "deadline": deadline.isoformat()},
    )
    return notice


async def _expire(conn: asyncpg.Connection, row: ApplicationRow, notice: Notice, now: datetime) -> bool:
    """Close an overdue notice; reject the application if it still waits for materials (naming them)."""
    await repo.close_notice(conn, notice.notice_id, fulfilled=False, at=now)
    if row.status != "pending_materials":
        return False
    still = await still_missing(conn, row)
    names = [(m.name_zh, m.name_en) for m in notice.missing if m.code in still] or [
        (m.name_zh, m.name_en) for m in notice.missing
    ]
    note = (
        "仍缺少：" + "、".join(zh for zh, _en in names) + "。",
        "Still missing: " + ", ".join(en for _zh, en in names) + ".",
    )
    await applications.transition(
        conn, row.id, "rejected", actor=EXPIRY_ACTOR, reason=DEADLINE_REASON, at=now, note=note
    )
    return True


async def expire_overdue(conn: asyncpg.Connection, *, now: datetime, limit: int = 500) -> list[UUID]:
    """Reject every application whose supplement deadline has passed; the caller owns the transaction.

    Locks the application before its notice (the order uploads use), so it never deadlocks with one.
    """
    rejected: list[UUID] = []
    for application_id in await repo.overdue(conn, now, limit):
        row = await _locked(conn, application_id)
        notice = await repo.notice_of(conn, application_id, for_update=True)
        if notice is None or notice.status != "open" or notice.deadline_at > now:
            continue  # supplied meanwhile
        if await _expire(conn, row, notice, now):
            rejected.append(application_id)
    return rejected
