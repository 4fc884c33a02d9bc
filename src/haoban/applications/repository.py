"""SQL for applications, their events and idempotency keys.

What a status change writes in other slices (the audit row, the notification,
its outbox row) goes through those slices' builders, in the same statement.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from haoban.applications.schemas import ApplicationEvent, ApplicationRow, StatusChange
from haoban.audit import service as audit
from haoban.db.batch import Batch
from haoban.db.sql import COMMA, EMPTY, Cte, Param, Sql, Template, join
from haoban.exchange.consent.rules import ConsentGrant
from haoban.notifications import service as notifications
from haoban.outbox import service as outbox

COLUMNS = (
    "id",
    "citizen_id",
    "service_code",
    "period",
    "department",
    "status",
    "status_reason",
    "inputs",
    "decision_id",
    "outcome",
    "amount_fen",
    "created_at",
    "updated_at",
)
_COLUMNS = join(COMMA, [Sql(c) for c in COLUMNS])

_GET = Template("SELECT {columns} FROM applications WHERE id = $1").render(columns=_COLUMNS).text
_GET_LOCKED = Template("SELECT {columns} FROM applications WHERE id = $1 FOR UPDATE").render(columns=_COLUMNS).text
_GET_OWNED = (
    Template("SELECT {columns} FROM applications WHERE id = $1 AND citizen_id = $2").render(columns=_COLUMNS).text
)
_PAGE_FIRST = (
    Template("SELECT {columns} FROM applications WHERE citizen_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2")
    .render(columns=_COLUMNS)
    .text
)
_PAGE_AFTER = (
    Template(
        "SELECT {columns} FROM applications WHERE citizen_id = $1 AND (created_at, id) < ($2, $3)"
        " ORDER BY created_at DESC, id DESC LIMIT $4"
    )
    .render(columns=_COLUMNS)
    .text
)


def _row(record: asyncpg.Record) -> ApplicationRow:
    return msgspec.convert(dict(record), ApplicationRow)


async def get(conn: asyncpg.Connection, application_id: UUID, *, for_update: bool = False) -> ApplicationRow | None:
    record = await conn.fetchrow(_GET_LOCKED if for_update else _GET, application_id)
    return _row(record) if record else None


async def get_owned(conn: asyncpg.Connection, application_id: UUID, citizen_id: UUID) -> ApplicationRow | None:
    record = await conn.fetchrow(_GET_OWNED, application_id, citizen_id)
    return _row(record) if record else None


async def page(
    conn: asyncpg.Connection, citizen_id: UUID, *, before: tuple[datetime, UUID] | None, limit: int
) -> list[ApplicationRow]:
    if before is None:
        rows = await conn.fetch(_PAGE_FIRST, citizen_id, limit)
    else:
        rows = await conn.fetch(_PAGE_AFTER, citizen_id, before[0], before[1], limit)
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


_STEPS = Template(
    "SELECT {target.app_id} AS app_id, {target.app_id} AS application_id, {target.citizen_id} AS citizen_id,"
    " t.from_status, t.to_status, t.to_status AS status, t.actor_type, t.actor_id, t.reason, t.action,"
    " 'application' AS subject_type, {target.app_id}::text AS subject_id, {details} -> (t.n - 1)::int AS details,"
    " coalesce(t.reference, 'application:' || {target.app_id} || ':' || t.to_status) AS reference,"
    " replace(coalesce(t.title_zh, {texts} -> {target.service_code} ->> 'title_zh'), '{{amount}}', {filled})"
    " AS title_zh,"
    " replace(coalesce(t.title_en, {texts} -> {target.service_code} ->> 'title_en'), '{{amount}}', {filled})"
    " AS title_en,"
    " replace(coalesce(t.body_zh, {texts} -> {target.service_code} ->> 'body_zh'), '{{amount}}', {filled})"
    " AS body_zh,"
    " replace(coalesce(t.body_en, {texts} -> {target.service_code} ->> 'body_en'), '{{amount}}', {filled})"
    " AS body_en,"
    " t.n FROM {target} CROSS JOIN unnest({arrays})"
    " WITH ORDINALITY AS t (from_status, to_status, actor_type, actor_id, reason, action, reference,"
    " title_zh, title_en, body_zh, body_en, n)"
)
_STEP_COLUMNS = (
    "app_id",
    "application_id",
    "citizen_id",
    "from_status",
    "to_status",
    "status",
    "actor_type",
    "actor_id",
    "reason",
    "action",
    "subject_type",
    "subject_id",
    "details",
    "reference",
    "title_zh",
    "title_en",
    "body_zh",
    "body_en",
    "n",
)
_AMOUNT = Template("{target.amount_yuan}")
_NO_AMOUNT = Sql("'—'")
_EVENTS = Template(
    "INSERT INTO application_events"
    " (application_id, from_status, to_status, actor_type, actor_id, reason, occurred_at)"
    " SELECT {steps.app_id}, {steps.from_status}, {steps.to_status}, {steps.actor_type}, {steps.actor_id},"
    " {steps.reason}, {at} FROM {steps} ORDER BY {steps.n}"
)
_DELIVERIES = Template(
    "SELECT {notified.reference} AS ref, jsonb_build_object('reference', {notified.reference}) AS payload,"
    " {notified.id} AS n FROM {notified}"
)


def add_history(
    b: Batch,
    prefix: str,
    target: Cte,
    steps: list[Step],
    *,
    at: datetime | Param,
    notify_kind: str,
    texts_by_service: dict[str, dict[str, str]] | None = None,
    amount: bool = False,
) -> None:
    """CTEs writing each step's event, audit row, notification and outbox row.

    `target` has one row (columns app_id, citizen_id, service_code) or none
    (then nothing is written). A step without a reference gets
    `application:<id>:<status>`; one without texts takes them from
    `texts_by_service` by the row's service. With `amount`, the target's
    `amount_yuan` column fills the texts' `{amount}` placeholder.
    """

    def texts(key: str) -> list[str | None]:
        return [s.texts[key] if s.texts else None for s in steps]

    arrays = join(
        COMMA,
        (
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
        ),
    )
    details = b.arg([s.details for s in steps], "jsonb")
    by_service = b.arg(texts_by_service, "jsonb")
    when = at if isinstance(at, Param) else b.arg(at, "timestamptz")
    filled = b.sql(_AMOUNT, target=target) if amount else _NO_AMOUNT
    rows = b.cte(
        f"{prefix}_steps",
        b.sql(_STEPS, target=target, details=details, texts=by_service, filled=filled, arrays=arrays),
        _STEP_COLUMNS,
    )
    b.cte(f"{prefix}_events", b.sql(_EVENTS, steps=rows, at=when))
    audit.add_rows(b, prefix, rows, at=when)
    notified = notifications.add_rows(b, prefix, rows, at=when)
    deliveries = b.cte(f"{prefix}_deliveries", b.sql(_DELIVERIES, notified=notified), ("ref", "payload", "n"))
    outbox.add_rows(b, prefix, deliveries, kind=notify_kind, at=when)


_INSERT = Template(
    "INSERT INTO applications ({columns}, payee_enc) SELECT {values}{source}"
    " RETURNING id AS app_id, citizen_id, service_code"
)
_FROM = Template(" FROM {guard}")


def add_new(
    b: Batch,
    prefix: str,
    row: ApplicationRow,
    steps: list[Step],
    *,
    at: datetime,
    notify_kind: str,
    guard: Cte | None,
    payee_enc: str | None = None,
) -> Cte:
    """CTEs inserting the application (at its latest status, `<prefix>_row`) and every step's rows.

    `guard` is a CTE that must yield a row for anything to be written.
    """
    values = join(
        COMMA,
        (
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
        ),
    )
    source = b.sql(_FROM, guard=guard) if guard else EMPTY
    target = b.cte(
        f"{prefix}_row",
        b.sql(_INSERT, columns=_COLUMNS, values=values, source=source),
        ("app_id", "citizen_id", "service_code"),
    )
    add_history(b, prefix, target, steps, at=at, notify_kind=notify_kind)
    return target


_MOVE = Template(
    "UPDATE applications SET status = {to_status}, status_reason = {reason}, updated_at = {at}"
    " WHERE id = {application_id} AND status = {from_status} RETURNING id AS app_id, {columns}"
)
_MOVED = Template("SELECT {columns} FROM {target}")


async def move_with_history(
    conn: asyncpg.Connection, application_id: UUID, step: Step, *, at: datetime, notify_kind: str
) -> ApplicationRow | None:
    """Compare-and-set the status from `step.from_status` and write the step's rows; None when it moved on."""
    b = Batch()
    when = b.arg(at, "timestamptz")
    sql = b.sql(
        _MOVE,
        to_status=b.arg(step.to_status, "text"),
        reason=b.arg(step.reason, "text"),
        at=when,
        application_id=b.arg(application_id, "uuid"),
        from_status=b.arg(step.from_status, "text"),
        columns=_COLUMNS,
    )
    target = b.cte("move_row", sql, ("app_id", *COLUMNS))
    add_history(b, "move", target, [step], at=when, notify_kind=notify_kind)
    record = await b.fetchrow(conn, b.sql(_MOVED, columns=_COLUMNS, target=target))
    return _row(record) if record else None


_PAID = Template(
    "UPDATE applications a SET status = 'paid', status_reason = NULL, updated_at = {at}"
    " FROM {source} WHERE a.id = {source.application_id} AND a.status = 'approved'"
    " RETURNING a.id AS app_id, a.citizen_id, a.service_code,"
    " to_char({source.amount_fen} / 100.0, 'FM999,999,999,990.00') AS amount_yuan"
)


def add_paid(
    b: Batch,
    prefix: str,
    source: Cte,
    *,
    actor_type: str,
    actor_id: str,
    at: datetime,
    texts: dict[str, dict[str, str]],
    notify_kind: str,
) -> None:
    """CTEs moving the application of each payout in `source` (columns application_id, amount_fen) from
    approved to paid.

    With its event, audit row, notification and outbox row, as `move_with_history`
    writes them; `texts` holds the `paid` notification's texts by service code.
    """
    when = b.arg(at, "timestamptz")
    paid = b.cte(
        f"{prefix}_paid",
        b.sql(_PAID, at=when, source=source),
        ("app_id", "citizen_id", "service_code", "amount_yuan"),
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
    add_history(b, prefix, paid, [step], at=when, notify_kind=notify_kind, texts_by_service=texts, amount=True)


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


_LIVE = Template(
    "SELECT id FROM applications WHERE citizen_id = {citizen_id} AND service_code = {service_code}"
    " AND period = {period} AND status NOT IN ('rejected', 'cancelled') LIMIT 1"
)
_SUBMISSION_STATE = Template(
    "SELECT (SELECT {live.id} FROM {live}) AS live_id,"
    " (SELECT {sealed.id_number_enc} FROM {sealed}) AS sealed_id_number,"
    " (SELECT {grants.grants} FROM {grants}) AS grants,"
    " (SELECT {balance.balance_fen} FROM {balance}) AS balance_fen,"
    " coalesce((SELECT jsonb_agg(jsonb_build_object('paid_at', e.occurred_at, 'amount_fen',"
    " coalesce(a.amount_fen, 0)) ORDER BY e.occurred_at) FROM application_events e"
    " JOIN applications a ON a.id = e.application_id WHERE a.citizen_id = {citizen_id}"
    " AND a.service_code = {service_code} AND e.to_status = 'paid'"
    " AND e.occurred_at >= {since}), '[]') AS paid"
)


def add_live_check(b: Batch, prefix: str, citizen_id: UUID | Param, service_code: str, period: str) -> Cte:
    """CTE `<prefix>_live`: the citizen's live application of the service for the period, if any."""
    cid = citizen_id if isinstance(citizen_id, Param) else b.arg(citizen_id, "uuid")
    sql = b.sql(_LIVE, citizen_id=cid, service_code=b.arg(service_code, "text"), period=b.arg(period, "text"))
    return b.cte(f"{prefix}_live", sql, ("id",))


async def run_submission_state(
    b: Batch,
    conn: asyncpg.Connection,
    citizen_id: UUID | Param,
    service_code: str,
    *,
    live: Cte,
    sealed: Cte,
    grants: Cte,
    balance: Cte,
    since: datetime,
) -> SubmissionState:
    """Run a statement built with `add_live_check`: the live application, the sealed ID number (`sealed`,
    column id_number_enc), the purpose's live consents (`grants`, one row with the column grants), the member
    ledger balance (`balance`, column balance_fen) and the service's paid applications since `since` (the
    rules' own history)."""
    cid = citizen_id if isinstance(citizen_id, Param) else b.arg(citizen_id, "uuid")
    final = b.sql(
        _SUBMISSION_STATE,
        live=live,
        sealed=sealed,
        grants=grants,
        balance=balance,
        citizen_id=cid,
        service_code=b.arg(service_code, "text"),
        since=b.arg(since, "timestamptz"),
    )
    row = await b.fetchrow(conn, final)
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


_KEY = (
    "SELECT request_hash, locked_until, application_id, response_status, response_body, expires_at, instruction_id"
    " FROM idempotency_keys WHERE citizen_id = $1 AND key = $2"
)
_KEY_LOCKED = (
    "SELECT request_hash, locked_until, application_id, response_status, response_body, expires_at, instruction_id"
    " FROM idempotency_keys WHERE citizen_id = $1 AND key = $2 FOR UPDATE"
)


async def get_key(conn: asyncpg.Connection, citizen_id: UUID, key: str, *, for_update: bool = False) -> KeyRow | None:
    record = await conn.fetchrow(_KEY_LOCKED if for_update else _KEY, citizen_id, key)
    return KeyRow(**dict(record)) if record else None


async def relock_key(conn: asyncpg.Connection, citizen_id: UUID, key: str, locked_until: datetime) -> None:
    await conn.execute(
        "UPDATE idempotency_keys SET locked_until = $3 WHERE citizen_id = $1 AND key = $2",
        citizen_id,
        key,
        locked_until,
    )


_KEY_LINK = Template(
    "UPDATE idempotency_keys SET application_id = {application_id}"
    " WHERE citizen_id = {citizen_id} AND key = {key}{source}"
)
_IF_GUARD = Template(" AND EXISTS (SELECT 1 FROM {guard})")


def add_key_link(b: Batch, prefix: str, citizen_id: UUID, key: str, application_id: UUID, *, guard: Cte | None) -> Cte:
    """`key_application` as a CTE (`<prefix>_key_link`) of the statement that inserts the application."""
    sql = b.sql(
        _KEY_LINK,
        application_id=b.arg(application_id, "uuid"),
        citizen_id=b.arg(citizen_id, "uuid"),
        key=b.arg(key, "text"),
        source=b.sql(_IF_GUARD, guard=guard) if guard else EMPTY,
    )
    return b.cte(f"{prefix}_key_link", sql)


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
