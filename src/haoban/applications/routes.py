"""HTTP: applications (scopes applications.read / applications.write) and the notification inbox."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Response, Router, get, post
from litestar.params import Body, FromPath, HeaderParameter, QueryParameter

from haoban.applications import service
from haoban.applications.examples import (
    CREATE_EXAMPLE,
    DETAIL_EXAMPLE,
    NOTIFICATIONS_EXAMPLE,
    PAID_EXAMPLE,
    REFUSED_EXAMPLE,
)
from haoban.applications.schemas import (
    ApplicationCreate,
    ApplicationDetail,
    ApplicationPage,
    ApplicationView,
    NotificationPage,
)
from haoban.applications.stream import stream_application_events
from haoban.audit.schemas import Actor
from haoban.deps import Conn, RuntimeDep
from haoban.kit.errors import FieldError, ValidationFailed
from haoban.kit.openapi import example, problems, success
from haoban.notifications import service as notifications
from haoban.oauth.guard import SCOPED_GUARDS
from haoban.tokens.guard import AUTH_DEPENDENCIES, CurrentPrincipal, require_scope

READ = "applications.read"
WRITE = "applications.write"

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        max_length=255,
        description="Same key and body: the first answer again (kept 24 h). Another body: 422. Still running: 409.",
    ),
]


@post(
    "/applications",
    operation_id="createApplication",
    summary="Apply for a service; instant services are decided and paid in the same request",
    description=(
        "Pulls the facts the service needs from the source systems (the application authorises the service's "
        "data items), evaluates the service's rule set and records the decision with its trace. An approved "
        "withdrawal is paid at once: when the bank confirms within the budget (2 s by default) the answer is "
        "`paid` with the transfer `settled`, else `approved` with the payout `processing`, finished by the worker. "
        "Withdrawals need a face verification within the last five minutes (401 `step_up_required`). "
        "A second live application for the same service and period is refused with 409 `application_exists`."
    ),
    tags=["applications"],
    status_code=201,
    request_max_body_size=64 * 1024,
    responses={
        **success(
            201,
            ApplicationView,
            "The application and its decision",
            example("paid in the same request", PAID_EXAMPLE) + example("refused with the reason", REFUSED_EXAMPLE),
        ),
        **problems(400, 401, 403, 409, 413, 422, 503, codes={401: "step_up_required", 409: "application_exists"}),
    },
)
async def create_application(
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    idempotency_key: IdempotencyKey,
    data: Annotated[ApplicationCreate, Body(examples=example("rent withdrawal", CREATE_EXAMPLE))],
) -> Response[ApplicationView]:
    require_scope(principal, WRITE)
    if idempotency_key is not None and not service.valid_key(idempotency_key):
        raise ValidationFailed(
            errors=[FieldError(field="Idempotency-Key", reason="1 to 255 printable ASCII characters", source="header")]
        )
    status, body = await service.submit(runtime, principal, data, idempotency_key)
    # The stored answer is replayed as the same value (msgspec encodes it to the same bytes).
    return Response(content=msgspec.json.decode(body, type=ApplicationView), status_code=status)


def _cursor(raw: str | None) -> tuple[datetime, UUID] | None:
    if raw is None:
        return None
    stamp, _, ident = raw.partition("~")
    try:
        return datetime.fromisoformat(stamp), UUID(ident)
    except ValueError:
        raise ValidationFailed(
            errors=[FieldError(field="before", reason="not a cursor from next_before", source="query")]
        ) from None


@get(
    "/applications",
    operation_id="listApplications",
    summary="My applications, newest first",
    tags=["applications"],
    responses={
        **success(
            200,
            ApplicationPage,
            "A page of applications",
            example("one page", {"applications": [PAID_EXAMPLE], "next_before": None}),
        ),
        **problems(400, 401, 403, 422),
    },
)
async def list_applications(
    principal: CurrentPrincipal,
    conn: Conn,
    before: Annotated[str | None, QueryParameter(name="before", max_length=100, required=False)] = None,
    limit: Annotated[int, QueryParameter(name="limit", ge=1, le=100)] = 20,
) -> ApplicationPage:
    require_scope(principal, READ)
    rows = await service.page(conn, principal.citizen_id, before=_cursor(before), limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if more and rows else None
    return ApplicationPage(
        applications=await service.views(conn, rows),
        next_before=f"{last.created_at.isoformat()}~{last.id}" if last else None,
    )


@get(
    "/applications/{application_id:uuid}",
    operation_id="getApplication",
    summary="One of my applications with its decision trace, payout and history",
    description="Another citizen's application is 404, exactly like one that does not exist.",
    tags=["applications"],
    responses={
        **success(200, ApplicationDetail, "The application", example("paid", DETAIL_EXAMPLE)),
        **problems(400, 401, 403, 404),
    },
)
async def get_application(principal: CurrentPrincipal, conn: Conn, application_id: FromPath[UUID]) -> ApplicationDetail:
    require_scope(principal, READ)
    return await service.detail(conn, await service.owned(conn, application_id, principal.citizen_id))


@post(
    "/applications/{application_id:uuid}/cancel",
    operation_id="cancelApplication",
    summary="Withdraw my application while it is not yet decided",
    tags=["applications"],
    status_code=200,
    responses={
        **success(200, ApplicationDetail, "The cancelled application", example("cancelled", DETAIL_EXAMPLE)),
        **problems(400, 401, 403, 404, 409, codes={409: "invalid_transition"}),
    },
)
async def cancel_application(
    principal: CurrentPrincipal, conn: Conn, runtime: RuntimeDep, application_id: FromPath[UUID]
) -> ApplicationDetail:
    require_scope(principal, WRITE)
    row = await service.owned(conn, application_id, principal.citizen_id)
    actor = Actor(type="citizen", id=str(principal.citizen_id))
    row = await service.cancel(conn, row, actor=actor, at=runtime.clock.now())
    return await service.detail(conn, row)


@get(
    "/me/notifications",
    operation_id="listMyNotifications",
    summary="My notifications: one per status change of each application",
    tags=["applications"],
    responses={
        **success(200, NotificationPage, "Newest first", example("paid", NOTIFICATIONS_EXAMPLE)),
        **problems(400, 401, 403, 422),
    },
)
async def list_notifications(
    principal: CurrentPrincipal,
    conn: Conn,
    before: Annotated[int | None, QueryParameter(name="before", ge=1, required=False)] = None,
    limit: Annotated[int, QueryParameter(name="limit", ge=1, le=100)] = 20,
) -> NotificationPage:
    require_scope(principal, READ)
    items = await notifications.notifications_page(conn, principal.citizen_id, before=before, limit=limit + 1)
    more = len(items) > limit
    items = items[:limit]
    return NotificationPage(notifications=items, next_before=items[-1].id if more and items else None)


router = Router(
    path="/v1",
    route_handlers=[
        create_application,
        list_applications,
        get_application,
        cancel_application,
        list_notifications,
        stream_application_events,
    ],
    guards=SCOPED_GUARDS,
    dependencies=AUTH_DEPENDENCIES,
)
