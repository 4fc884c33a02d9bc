"""Exchange use cases: consents, pulling linked data, the citizen's access log."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

from haoban.audit import service as audit
from haoban.audit.schemas import Actor
from haoban.citizens import service as citizens
from haoban.db.batch import Batch
from haoban.db.pool import unit_of_work
from haoban.db.sql import Cte, Param
from haoban.exchange.consent import access_log
from haoban.exchange.consent import repository as repo
from haoban.exchange.consent.rules import ConsentGrant, missing_items
from haoban.exchange.consent.schemas import AccessLogPage, Consent, ConsentCreate, LinkedData, Purpose, SourceData
from haoban.exchange.sources import items as catalog
from haoban.exchange.sources import provenance
from haoban.exchange.sources.gather import Answer, gather
from haoban.exchange.sources.records import SourceName
from haoban.kit.context import request_id_var
from haoban.kit.errors import FieldError, Forbidden, NotFound, ValidationFailed
from haoban.runtime import Runtime


class ConsentRequired(Forbidden):
    code = "consent_required"


class Authorised(msgspec.Struct, frozen=True, kw_only=True):
    """What a pull checks, when its caller has just read it: live consents and the sealed ID number."""

    grants: list[ConsentGrant]
    sealed_id_number: str | None


class Pulled(msgspec.Struct, frozen=True, kw_only=True):
    answers: list[Answer]
    data: LinkedData


# --- consents ---------------------------------------------------------------


async def grant_consent(conn: asyncpg.Connection, runtime: Runtime, citizen_id: UUID, data: ConsentCreate) -> Consent:
    errors = [
        FieldError(field=f"items[{i}]", reason=f"unknown data item {item!r}")
        for i, item in enumerate(data.items)
        if not catalog.is_known_item(item)
    ]
    if data.purpose.kind == "self_view" and data.purpose.ref:
        errors.append(FieldError(field="purpose.ref", reason="must be empty for self_view"))
    if data.purpose.kind != "self_view" and not data.purpose.ref:
        errors.append(FieldError(field="purpose.ref", reason="names the service or application"))
    now = runtime.clock.now()
    if data.expires_at is not None and data.expires_at <= now:
        errors.append(FieldError(field="expires_at", reason="must be in the future"))
    if errors:
        raise ValidationFailed("The consent is not valid.", errors=errors)
    # One statement writes the consent and its `consent.granted` audit row.
    return await repo.insert_consent(
        conn,
        consent_id=uuid.uuid4(),
        citizen_id=citizen_id,
        purpose=data.purpose,
        items=list(dict.fromkeys(data.items)),
        terms_version=data.terms_version,
        granted_at=now,
        expires_at=data.expires_at,
    )


def add_service_consent(
    b: Batch, prefix: str, citizen_id: UUID, data: ConsentCreate, *, at: datetime, unless: Cte
) -> Cte:
    """`grant_consent` as CTEs of a larger statement, skipped when a live consent holds every item
    or `unless` (a CTE) has a row; returns the CTE of the granted consent (none when skipped)."""
    unknown = [item for item in data.items if not catalog.is_known_item(item)]
    if unknown or data.expires_at is not None:
        raise ValueError(f"a service consent names known items and does not expire: {unknown}")
    return repo.add_consent(
        b,
        prefix,
        consent_id=uuid.uuid4(),
        citizen_id=citizen_id,
        purpose=data.purpose,
        items=list(dict.fromkeys(data.items)),
        terms_version=data.terms_version,
        granted_at=at,
        unless=unless,
    )


def add_live_grants(b: Batch, prefix: str, citizen_id: UUID | Param, purpose: Purpose, *, granted: Cte) -> Cte:
    """The purpose's live consents as a CTE of a larger statement (one row, column grants: a JSON list of
    `ConsentGrant`s), with the one `granted` (from `add_service_consent`) gave."""
    return repo.add_grants(b, prefix, citizen_id, purpose, granted=granted)


async def list_consents(conn: asyncpg.Connection, runtime: Runtime, citizen_id: UUID) -> list[Consent]:
    return await repo.consents_of(conn, citizen_id, runtime.clock.now())


async def revoke_consent(conn: asyncpg.Connection, runtime: Runtime, citizen_id: UUID, consent_id: UUID) -> None:
    now = runtime.clock.now()
    revoked = await repo.revoke_consent(conn, consent_id, citizen_id, now)
    if revoked is None:
        raise NotFound("No such consent.")
    if revoked:
        await audit.record(
            conn,
            actor=Actor(type="citizen", id=str(citizen_id)),
            action="consent.revoked",
            subject_type="consent",
            subject_id=str(consent_id),
            at=now,
        )


# --- pulling ----------------------------------------------------------------


def _request_hash(requester: Actor, subject_id: UUID, source: str, items: list[str], purpose: Purpose) -> str:
    body = msgspec.json.encode(
        [requester.type, requester.id, str(subject_id), source, items, purpose.kind, purpose.ref]
    )
    return hashlib.sha256(body).hexdigest()


async def _log_pulls(
    runtime: Runtime,
    *,
    requester: Actor,
    subject_id: UUID,
    purpose: Purpose,
    answers: list[Answer],
    views: list[SourceData],
) -> None:
    """Append one row per source in one statement on its own pooled connection (no transaction)."""
    now = runtime.clock.now()
    entries: list[access_log.LogEntry] = []
    for answer, view in zip(answers, views, strict=True):
        items = catalog.item_names(answer.source)
        entries.append(
            access_log.LogEntry(
                at=now,
                requester_type=requester.type,
                requester_id=requester.id,
                subject_id=subject_id,
                source=answer.source,
                items=tuple(items),
                purpose_kind=purpose.kind,
                purpose_ref=purpose.ref,
                outcome=view.status,
                request_hash=_request_hash(requester, subject_id, answer.source, items, purpose),
                response_hash=answer.fetched.response_hash if answer.fetched else None,
                request_id=request_id_var.get(),
            )
        )
    if entries:
        async with unit_of_work(runtime.pool, transaction=False) as conn:
            await repo.append(conn, entries)


async def pull(
    runtime: Runtime,
    *,
    citizen_id: UUID,
    requester: Actor,
    purpose: Purpose,
    sources: list[SourceName],
    authorised: Authorised | None = None,
    household: bool = False,
) -> Pulled:
    """Pull `sources` for a citizen under a consent covering `purpose`; log every pull.

    Three steps so no database connection waits on a slow source: the live
    consents and the sealed ID number are read (or taken from `authorised`, read
    by the caller a moment ago) and checked, the sources are asked with no
    transaction open, and one statement appends the access-log rows.
    """
    items = catalog.all_item_names(sources)
    now = runtime.clock.now()
    if authorised is None:
        async with unit_of_work(runtime.pool) as conn:
            grants = await repo.live_grants(conn, citizen_id, purpose)
            sealed = await citizens.sealed_id_number(conn, citizen_id)
        authorised = Authorised(grants=grants, sealed_id_number=sealed)
    missing = missing_items(authorised.grants, purpose_kind=purpose.kind, purpose_ref=purpose.ref, items=items, now=now)
    if missing:
        raise ConsentRequired(
            "No consent of the citizen covers this purpose and these data items.",
            extra={"purpose": msgspec.to_builtins(purpose), "missing_items": missing},
        )
    id_number = citizens.open_id_number(runtime.vault, citizen_id, authorised.sealed_id_number)
    timeout_s = runtime.settings.exchange.source_timeout_ms / 1000
    answers = await gather(runtime.sources, id_number, sources, timeout_s, household=household)
    views = [
        provenance.answered(
            a.source,
            a.fetched.record,
            system=a.fetched.system,
            subject_id_number=id_number,
            spouse_properties=a.spouse_properties,
            spouse_reason=a.spouse_reason,
        )
        if a.fetched is not None
        else provenance.unavailable(a.source, a.reason or "unknown")
        for a in answers
    ]
    await _log_pulls(runtime, requester=requester, subject_id=citizen_id, purpose=purpose, answers=answers, views=views)
    data = LinkedData(citizen_id=citizen_id, purpose=purpose, fetched_at=now, sources=views)
    return Pulled(answers=answers, data=data)


async def access_log_page(
    conn: asyncpg.Connection, citizen_id: UUID, *, before: int | None, limit: int
) -> AccessLogPage:
    entries = await repo.entries_for(conn, citizen_id, before=before, limit=limit + 1)
    more = len(entries) > limit
    entries = entries[:limit]
    return AccessLogPage(entries=entries, next_before=entries[-1].seq if more and entries else None)


async def verify_chain(conn: asyncpg.Connection) -> access_log.VerifyResult:
    """Check the whole chain (for `haoban audit verify`)."""
    verifier = access_log.Verifier()
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        head = await repo.head(conn)
        async for row in repo.all_rows(conn):
            if not verifier.feed(row):
                break
    return verifier.finish(head)
