"""SQL for applications, their events, idempotency keys and the notification inbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from haoban.applications.schemas import ApplicationEvent, ApplicationRow, Notification, StatusChange
from haoban.db.batch import Batch
from haoban.exchange.consent_rules import ConsentGrant
from haoban.kit.context import request_id_var

_COLUMNS = (
    "id, citizen_id, service_code, period, department, status, status_reason, inputs, decision_id, outcome,"
    " amount_fen, created_at, updated_at"
)


def _row(record: asyncpg.Record) -> ApplicationRow:
    return msgspec.convert(dict(record), ApplicationRow)


async def get(conn: asyncpg.Connection, application_id: UUID, *, for_update: bool = False) -> ApplicationRow | None:
    lock = " FOR UPDATE" if for_update else ""
    record = await conn.fetchrow(f"SELECT {_COLUMNS} FROM applications WHERE id = $1{lock}", application_id)  # noqa: S608
    return _row(record) if record else None


async def get_owned(conn: asyncpg.Connection, application_id: UUID, citizen_id: UUID) -> ApplicationRow | None:
    record = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM applications WHERE id = $1 AND citizen_id = $2",  # noqa: S608
        application_id,
        citizen_id,
    )
    return _row(record) if record else None


async def page(
    conn: asyncpg.Connection, citizen_id: UUID, *, before: tuple[datetime, UUID] | None, limit: int
) -> list[ApplicationRow]:
    if before is None:
        rows = await conn.fetch(
            f"SELECT {_COLUMNS} FROM applications WHERE citizen_id = $1"  # noqa: S608
            " ORDER BY created_at DESC, id DESC LIMIT $2",
            citizen_id,
            limit,
        )
    else:
        rows = await conn.fetch(
            f"SELECT {_COLUMNS} FROM applications WHERE citizen_id = $1 AND (created_at, id) < ($2, $3)"  # noqa: S608
            " ORDER BY created_at DESC, id DESC LIMIT $4",
            citizen_id,
            before[0],
            before[1],
            limit,
        )
    return [_row(r) for r in rows]


async def payee_of(conn: asyncpg.Connection, application_id: UUID) -> str | None:
    value: str | None = await conn.fetchval("SELECT payee_enc FROM applications WHERE id = $1", application_id)
    return value


class Step(msgspec.Struct, frozen=True, kw_only=True):
    """One status change as written: its event, audit row, notification and outbox row.

    `reference` and `texts` may be left to the statement (`add_history(texts_by_service=...)`)
    when the application is only known there.
    """

    from_status: str | None
    to_status: str
    actor_type: str
    actor_id: str
    reason: str | None
    action: str
    details: dict[str, Any]
    reference: str | None = None
    texts: dict[str, str] | None = None


def add_history(
    b: Batch,
    target: str,
    steps: list[Step],
    *,
    at: datetime,
    notify_kind: str,
    texts_by_service: dict[str, dict[str, str]] | None = None,
    amount: bool = False,
) -> None:
    """CTEs writing each step's event, audit row, notification and outbox row.

    `target` names a CTE with one row (columns app_id, citizen_id, service_code) or
    none (then nothing is written). A step without a reference gets
    `application:<id>:<status>`; one without texts takes them from
    `texts_by_service` by the row's service. With `amount`, the target's
    `amount_yuan` column fills the texts' `{amount}` placeholder.
    """

    def texts(key: str) -> list[str | None]:
        return [s.texts[key] if s.texts else None for s in steps]

    arrays = ", ".join(
        b.arg(values, "text[]")
        for values in (
            [s.from_status for s in steps],
            [s.to_status for s in steps],
            [s.actor_type for s in steps],
            [s.actor_id for s in steps],
            [s.reason for s in steps],
            [s.action for s in steps],
            [s.reference for s in steps],
            texts("title_zh"),
            texts("title_en"),
            texts("body_zh"),
            texts("body_en"),
        )
    )
    details = b.arg([s.details for s in steps], "jsonb")
    by_service = f"{b.arg(texts_by_service, 'jsonb')} -> {target}.service_code"
    when, request_id, kind = b.arg(at, "timestamptz"), b.arg(request_id_var.get(), "text"), b.arg(notify_kind, "text")
    filled = f"{target}.amount_yuan" if amount else "'—'"
    fallback = ", ".join(
        f"replace(coalesce(t.{k}, {by_service} ->> '{k}'), '{{amount}}', {filled}) AS {k}"
        for k in ("title_zh", "title_en", "body_zh", "body_en")
    )
    b.cte(
        "steps",
        f"SELECT {target}.app_id, {target}.citizen_id, t.from_status, t.to_status, t.actor_type, t.actor_id,"  # noqa: S608
        f" t.reason, t.action, coalesce(t.reference, 'application:' || {target}.app_id || ':' || t.to_status)"
        f" AS reference, {fallback}, t.n FROM {target} CROSS JOIN unnest({arrays})"
        " WITH ORDINALITY AS t (from_status, to_status, actor_type, actor_id, reason, action, reference,"
        " title_zh, title_en, body_zh, body_en, n)",
    )
    b.cte(
        "steps_ev",
        "INSERT INTO application_events"  # noqa: S608
        " (application_id, from_status, to_status, actor_type, actor_id, reason, occurred_at)"
        f" SELECT app_id, from_status, to_status, actor_type, actor_id, reason, {when} FROM steps ORDER BY n",
    )
    b.cte(
        "steps_au",
        "INSERT INTO audit_events"  # noqa: S608
        " (occurred_at, actor_type, actor_id, action, subject_type, subject_id, request_id, details)"
        f" SELECT {when}, actor_type, actor_id, action, 'application', app_id::text, {request_id},"
        f" {details} -> (n - 1)::int FROM steps ORDER BY n",
    )
    b.cte(
        "steps_nt",
        "INSERT INTO notifications"  # noqa: S608
        " (citizen_id, reference, application_id, status, title_zh, title_en, body_zh, body_en, created_at)"
        f" SELECT citizen_id, reference, app_id, to_status, title_zh, title_en, body_zh, body_en, {when}"
        " FROM steps ORDER BY n ON CONFLICT (reference) DO NOTHING RETURNING id, reference",
    )
    b.cte(
        "steps_ob",
        "INSERT INTO outbox (kind, ref, payload, created_at, available_at)"  # noqa: S608
        f" SELECT {kind}, reference, jsonb_build_object('reference', reference), {when}, {when} FROM steps_nt"
        " ORDER BY id ON CONFLICT (kind, ref) DO NOTHING",
    )


def add_new(
    b: Batch,
    row: ApplicationRow,
    steps: list[Step],
    *,
    at: datetime,
    notify_kind: str,
    guard: str | None,
    payee_enc: str | None = None,
) -> None:
    """CTEs inserting the application (at its latest status) and every step's rows.

    `guard` names a CTE that must yield a row for anything to be written.
    """
    values = ", ".join(
        b.arg(v, t)
        for v, t in (
            (row.id, "uuid"),
            (row.citizen_id, "uuid"),
            (row.service_code, "text"),
            (row.period, "text"),
            (row.department, "text"),
            (row.status, "text"),
            (row.status_reason, "text"),
            (row.inputs, "jsonb"),
            (row.decision_id, "uuid"),
            (row.outcome, "text"),
            (row.amount_fen, "bigint"),
            (row.created_at, "timestamptz"),
            (row.updated_at, "timestamptz"),
            (payee_enc, "text"),
        )
    )
    source = f" FROM {guard}" if guard else ""
    b.cte(
        "target",
        f"INSERT INTO applications ({_COLUMNS}, payee_enc) SELECT {values}{source}"
        " RETURNING id AS app_id, citizen_id, service_code",
    )
    add_history(b, "target", steps, at=at, notify_kind=notify_kind)


async def move_with_history(
    conn: asyncpg.Connection, application_id: UUID, step: Step, *, at: datetime, notify_kind: str
) -> ApplicationRow | None:
    """Compare-and-set the status from `step.from_status` and write the step's rows; None when it moved on."""
    b = Batch()
    sets = (
        f"status = {b.arg(step.to_status, 'text')}, status_reason = {b.arg(step.reason, 'text')},"
        f" updated_at = {b.arg(at, 'timestamptz')}"
    )
    b.cte(
        "target",
        f"UPDATE applications SET {sets} WHERE id = {b.arg(application_id, 'uuid')}"  # noqa: S608
        f" AND status = {b.arg(step.from_status, 'text')} RETURNING id AS app_id, {_COLUMNS}",
    )
    add_history(b, "target", [step], at=at, notify_kind=notify_kind)
    record = await b.fetchrow(conn, f"SELECT {_COLUMNS} FROM target")  # noqa: S608
    return _row(record) if record else None


def add_paid(
    b: Batch,
    source: str,
    *,
    actor_type: str,
    actor_id: str,
    at: datetime,
    texts: dict[str, dict[str, str]],
    notify_kind: str,
) -> None:
    """CTEs moving the application of each payout in `source` (column application_id) from approved to paid.

    With its event, audit row, notification and outbox row, as `move_with_history`
    writes them; `texts` holds the `paid` notification's texts by service code.
    """
    b.cte(
        "paid",
        f"UPDATE applications a SET status = 'paid', status_reason = NULL, updated_at = {b.arg(at, 'timestamptz')}"  # noqa: S608
        f" FROM {source} s WHERE a.id = s.application_id AND a.status = 'approved'"
        " RETURNING a.id AS app_id, a.citizen_id, a.service_code,"
        " to_char(s.amount_fen / 100.0, 'FM999,999,999,990.00') AS amount_yuan",
    )
    step = Step(
        from_status="approved",
        to_status="paid",
        actor_type=actor_type,
        actor_id=actor_id,
        reason=None,
        action="application.paid",
        details={"from": "approved", "reason": None},
    )
    add_history(b, "paid", [step], at=at, notify_kind=notify_kind, texts_by_service=texts, amount=True)


async def events(conn: asyncpg.Connection, application_id: UUID) -> list[ApplicationEvent]:
    rows = await conn.fetch(
        "SELECT from_status, to_status, actor_type, reason, occurred_at FROM application_events"
        " WHERE application_id = $1 ORDER BY id",
        application_id,
    )
    return [ApplicationEvent(**dict(r)) for r in rows]


async def status_changes_after(
    db: asyncpg.Pool | asyncpg.Connection, citizen_id: UUID, after: int, limit: int
) -> list[StatusChange]:
    """The citizen's application events with an id above `after`, oldest first (the event stream)."""
    rows = await db.fetch(
        "SELECT e.id AS event_id, e.application_id, a.service_code, e.from_status, e.to_status, e.reason,"
        " e.occurred_at FROM application_events e JOIN applications a ON a.id = e.application_id"
        " WHERE a.citizen_id = $1 AND e.id > $2 ORDER BY e.id LIMIT $3",
        citizen_id,
        after,
        limit,
    )
    return [StatusChange(**dict(r)) for r in rows]


async def last_status_change(db: asyncpg.Pool | asyncpg.Connection, citizen_id: UUID) -> int:
    """Where a stream without Last-Event-ID starts: after the citizen's latest event (0 if none)."""
    value = await db.fetchval(
        "SELECT coalesce(max(e.id), 0) FROM application_events e JOIN applications a ON a.id = e.application_id"
        " WHERE a.citizen_id = $1",
        citizen_id,
    )
    return int(value)


class Paid(msgspec.Struct, frozen=True, kw_only=True):
    paid_at: datetime
    amount_fen: int


class SubmissionState(msgspec.Struct, frozen=True, kw_only=True):
    live_id: UUID | None
    sealed_id_number: str | None
    grants: list[ConsentGrant]
    balance_fen: int | None  # the member ledger account's; None: not opened yet
    paid: list[Paid]  # this service's paid applications since `since`, oldest first


def add_live_check(b: Batch, citizen_id: UUID, service_code: str, period: str) -> str:
    """CTE `live`: the citizen's live application of the service for the period, if any."""
    b.cte(
        "live",
        f"SELECT id FROM applications WHERE citizen_id = {b.arg(citizen_id, 'uuid')}"  # noqa: S608
        f" AND service_code = {b.arg(service_code, 'text')} AND period = {b.arg(period, 'text')}"
        " AND status NOT IN ('rejected', 'cancelled') LIMIT 1",
    )
    return "live"


async def run_submission_state(
    b: Batch,
    conn: asyncpg.Connection,
    citizen_id: UUID,
    service_code: str,
    *,
    purpose_kind: str,
    purpose_ref: str,
    granted: str,
    since: datetime,
) -> SubmissionState:
    """Run a statement built with `add_live_check`: the live application, the sealed ID number, the
    purpose's live consents (with one the statement granted, from the CTE `granted`), the member
    ledger balance and the service's paid applications since `since` (the rules' own history)."""
    cid, kind, ref = b.arg(citizen_id, "uuid"), b.arg(purpose_kind, "text"), b.arg(purpose_ref, "text")
    grant = "jsonb_build_object('purpose_kind', purpose_kind, 'purpose_ref', purpose_ref, 'items', items,"
    grant += " 'expires_at', expires_at, 'revoked_at', revoked_at)"
    row = await b.fetchrow(
        conn,
        f"SELECT (SELECT id FROM live) AS live_id, (SELECT id_number_enc FROM citizens WHERE id = {cid})"  # noqa: S608
        f" AS sealed_id_number, coalesce((SELECT jsonb_agg({grant}) FROM consents WHERE citizen_id = {cid}"
        f" AND purpose_kind = {kind} AND purpose_ref = {ref} AND revoked_at IS NULL), '[]')"
        f" || coalesce((SELECT jsonb_agg({grant}) FROM {granted}), '[]') AS grants,"
        f" (SELECT balance_fen FROM ledger_accounts WHERE citizen_id = {cid} AND kind = 'member') AS balance_fen,"
        " coalesce((SELECT jsonb_agg(jsonb_build_object('paid_at', e.occurred_at, 'amount_fen',"
        " coalesce(a.amount_fen, 0)) ORDER BY e.occurred_at) FROM application_events e"
        f" JOIN applications a ON a.id = e.application_id WHERE a.citizen_id = {cid}"
        f" AND a.service_code = {b.arg(service_code, 'text')} AND e.to_status = 'paid'"
        f" AND e.occurred_at >= {b.arg(since, 'timestamptz')}), '[]') AS paid",
    )
    assert row is not None  # noqa: S101 (a SELECT without FROM returns one row)
    return msgspec.convert(dict(row), SubmissionState, strict=False)


# --- idempotency keys -------------------------------------------------------


class KeyRow(msgspec.Struct, frozen=True, kw_only=True):
    request_hash: bytes
    locked_until: datetime | None
    application_id: UUID | None
    response_status: int | None
    response_body: bytes | None
    expires_at: datetime
    instruction_id: UUID | None = None


async def claim_key(
    conn: asyncpg.Connection,
    *,
    citizen_id: UUID,
    key: str,
    request_hash: bytes,
    locked_until: datetime,
    at: datetime,
    expires_at: datetime,
    instruction_id: UUID,
) -> bool:
    """Insert the key as running, with the application id it plans; False when it exists already."""
    status = await conn.execute(
        "INSERT INTO idempotency_keys (citizen_id, key, request_hash, locked_until, created_at, expires_at,"
        " instruction_id) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (citizen_id, key) DO NOTHING",
        citizen_id,
        key,
        request_hash,
        locked_until,
        at,
        expires_at,
        instruction_id,
    )
    return bool(status == "INSERT 0 1")


async def get_key(conn: asyncpg.Connection, citizen_id: UUID, key: str, *, for_update: bool = False) -> KeyRow | None:
    lock = " FOR UPDATE" if for_update else ""
    record = await conn.fetchrow(
        "SELECT request_hash, locked_until, application_id, response_status, response_body, expires_at,"  # noqa: S608
        " instruction_id"
        f" FROM idempotency_keys WHERE citizen_id = $1 AND key = $2{lock}",
        citizen_id,
        key,
    )
    return KeyRow(**dict(record)) if record else None


async def relock_key(conn: asyncpg.Connection, citizen_id: UUID, key: str, locked_until: datetime) -> None:
    await conn.execute(
        "UPDATE idempotency_keys SET locked_until = $3 WHERE citizen_id = $1 AND key = $2",
        citizen_id,
        key,
        locked_until,
    )


def add_key_link(b: Batch, citizen_id: UUID, key: str, application_id: UUID, *, guard: str | None) -> None:
    """`key_application` as a CTE of the statement that inserts the application."""
    source = f" AND EXISTS (SELECT 1 FROM {guard})" if guard else ""  # noqa: S608
    b.cte(
        "key_link",
        f"UPDATE idempotency_keys SET application_id = {b.arg(application_id, 'uuid')}"  # noqa: S608
        f" WHERE citizen_id = {b.arg(citizen_id, 'uuid')} AND key = {b.arg(key, 'text')}{source}",
    )


async def finish_key(conn: asyncpg.Connection, citizen_id: UUID, key: str, *, status: int, body: bytes) -> None:
    await conn.execute(
        "UPDATE idempotency_keys SET response_status = $3, response_body = $4, locked_until = NULL"
        " WHERE citizen_id = $1 AND key = $2",
        citizen_id,
        key,
        status,
        body,
    )


async def unlock_key(conn: asyncpg.Connection, citizen_id: UUID, key: str) -> None:
    """Keep the key (and its planned instruction) but let a retry run at once."""
    await conn.execute(
        "UPDATE idempotency_keys SET locked_until = NULL WHERE citizen_id = $1 AND key = $2", citizen_id, key
    )


async def release_key(conn: asyncpg.Connection, citizen_id: UUID, key: str) -> None:
    """Forget a key whose request stored nothing (validation failed, conflict): the client may retry."""
    await conn.execute(
        "DELETE FROM idempotency_keys WHERE citizen_id = $1 AND key = $2 AND response_status IS NULL"
        " AND application_id IS NULL",
        citizen_id,
        key,
    )


async def prune_keys(conn: asyncpg.Connection, now: datetime) -> int:
    status = await conn.execute("DELETE FROM idempotency_keys WHERE expires_at < $1", now)
    return int(status.split()[-1])


# --- notifications ---------------------------------------------------------


async def insert_notification(
    conn: asyncpg.Connection,
    *,
    citizen_id: UUID,
    reference: str,
    application_id: UUID | None,
    status: str,
    texts: dict[str, str],
    at: datetime,
) -> bool:
    """False when this reference was notified already (redelivery is harmless)."""
    result = await conn.execute(
        "INSERT INTO notifications (citizen_id, reference, application_id, status, title_zh, title_en, body_zh,"
        " body_en, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (reference) DO NOTHING",
        citizen_id,
        reference,
        application_id,
        status,
        texts["title_zh"],
        texts["title_en"],
        texts["body_zh"],
        texts["body_en"],
        at,
    )
    return bool(result == "INSERT 0 1")


_N_COLUMNS = "id, reference, application_id, status, title_zh, title_en, body_zh, body_en, created_at, delivered_at"


async def notifications_page(
    conn: asyncpg.Connection, citizen_id: UUID, *, before: int | None, limit: int
) -> list[Notification]:
    rows = await conn.fetch(
        f"SELECT {_N_COLUMNS} FROM notifications WHERE citizen_id = $1 AND ($2::bigint IS NULL OR id < $2)"  # noqa: S608
        " ORDER BY id DESC LIMIT $3",
        citizen_id,
        before,
        limit,
    )
    return [Notification(**dict(r)) for r in rows]


class Undelivered(msgspec.Struct, frozen=True, kw_only=True):
    reference: str
    citizen_id: UUID
    title_zh: str
    body_zh: str


async def undelivered(conn: asyncpg.Connection | asyncpg.Pool, references: list[str]) -> list[Undelivered]:
    """The notifications among `references` not delivered yet, oldest first (one statement for a batch)."""
    rows = await conn.fetch(
        "SELECT reference, citizen_id, title_zh, body_zh FROM notifications"
        " WHERE reference = ANY($1::text[]) AND delivered_at IS NULL ORDER BY id",
        references,
    )
    return [Undelivered(**dict(r)) for r in rows]


async def mark_delivered_many(conn: asyncpg.Connection | asyncpg.Pool, references: list[str], at: datetime) -> None:
    await conn.execute(
        "UPDATE notifications SET delivered_at = $2 WHERE reference = ANY($1::text[]) AND delivered_at IS NULL",
        references,
        at,
    )
