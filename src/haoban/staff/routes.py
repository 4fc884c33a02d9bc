"""HTTP: staff sign-in and the manual lane (queue, one application, decision)."""

from __future__ import annotations

from typing import Annotated, cast
from uuid import UUID

from litestar import Request, Response, Router, get, post
from litestar.datastructures import State
from litestar.params import Body, FromPath, QueryParameter

from haoban.deps import Conn, RuntimeDep
from haoban.kit.errors import AppError
from haoban.kit.openapi import PUBLIC, example, problems, success
from haoban.kit.problems import Problem, problem_response
from haoban.limits.http import request_address
from haoban.staff import service
from haoban.staff.examples import (
    APPLICATION_EXAMPLE,
    DECISION_EXAMPLE,
    DECISION_REQUEST,
    LOGIN_REQUEST,
    QUEUE_EXAMPLE,
    TOKEN_EXAMPLE,
)
from haoban.staff.guard import STAFF_DEPENDENCIES, STAFF_GUARDS, STAFF_SECURITY, CurrentStaff
from haoban.staff.schemas import DecisionCreate, DecisionResult, QueuePage, StaffApplication, StaffLogin, StaffToken

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _problem(request: Request[object, object, State], error: AppError) -> Response[Problem]:
    return problem_response(
        request,
        status=error.status,
        code=error.code,
        detail=error.detail,
        headers={**error.headers, **NO_STORE},
        extra=error.extra,
    )


@post(
    "/login",
    operation_id="staffLogin",
    summary="Staff sign-in: username and password for a short-lived staff token",
    description=(
        "The token's audience is `haoban-staff`: it works only on /v1/staff routes, and citizen tokens never "
        "work there. An unknown username, a wrong password and a disabled account get the same 401. Failures "
        "in a row for one username from one source address grow a wait (after 3: 2 s, 4 s, … up to 15 minutes; "
        "429 `staff_login_locked` with Retry-After), known username or not; one address gets 30 sign-ins a "
        "minute and 300 an hour (429 `rate_limited`). Failures from elsewhere never lock a username."
    ),
    tags=["staff"],
    security=PUBLIC,
    status_code=200,
    responses={
        **success(200, StaffToken, "Signed in", example("signed in", TOKEN_EXAMPLE)),
        **problems(400, 401, 422, 429, codes={401: "invalid_credentials", 429: ("staff_login_locked", "rate_limited")}),
    },
)
async def staff_login(
    data: Annotated[StaffLogin, Body(examples=example("sign in", LOGIN_REQUEST))],
    conn: Conn,
    runtime: RuntimeDep,
    request: Request[object, object, State],
) -> Response[StaffToken]:
    address = request_address(request, runtime.settings.http.trusted_proxies)
    outcome = await service.login(conn, runtime, data, address=address)
    if isinstance(outcome, AppError):  # returned so the failure count commits
        return cast("Response[StaffToken]", _problem(request, outcome))
    return Response(outcome, status_code=200, headers=NO_STORE)


@get(
    "/queue",
    operation_id="staffQueue",
    summary="Applications waiting for my departments, oldest first",
    description=(
        "Pending review or pending materials, in the caller's departments only. Least data: a masked name, "
        "never an ID number. `limit` is clamped to 1..100; pass `next_after` back as `after` for the next page."
    ),
    tags=["staff"],
    security=STAFF_SECURITY,
    guards=STAFF_GUARDS,
    dependencies=STAFF_DEPENDENCIES,
    responses={
        **success(200, QueuePage, "A page of the queue", example("one page", QUEUE_EXAMPLE)),
        **problems(400, 401, 422),
    },
)
async def staff_queue(
    staff: CurrentStaff,
    conn: Conn,
    limit: Annotated[int, QueryParameter(name="limit", required=False)] = 20,
    after: Annotated[str | None, QueryParameter(name="after", max_length=200, required=False)] = None,
) -> QueuePage:
    return await service.queue(conn, staff, limit=limit, after=after)


@get(
    "/applications/{application_id:uuid}",
    operation_id="staffGetApplication",
    summary="One application for review: decision trace, facts with provenance, materials",
    description="Only applications of the caller's departments; any other is 404. Each view is audited.",
    tags=["staff"],
    security=STAFF_SECURITY,
    guards=STAFF_GUARDS,
    dependencies=STAFF_DEPENDENCIES,
    responses={
        **success(200, StaffApplication, "The application", example("pending review", APPLICATION_EXAMPLE)),
        **problems(400, 401, 404),
    },
)
async def staff_get_application(
    staff: CurrentStaff, conn: Conn, runtime: RuntimeDep, application_id: FromPath[UUID]
) -> StaffApplication:
    return await service.application(conn, staff, application_id, now=runtime.clock.now())


@post(
    "/applications/{application_id:uuid}/decision",
    operation_id="staffDecide",
    summary="Approve or reject an application pending review",
    description=(
        "Only for the caller's departments (else 404) and only while `pending_review` (else 409 "
        "`not_pending_review`); approving while the applicant's 1+1+N materials are incomplete is 409 "
        "`materials_incomplete` (rejecting is allowed). Nobody decides their own application "
        "(403 `own_application`, matched by citizen account or ID number). Audited with the staff member as the actor."
    ),
    tags=["staff"],
    security=STAFF_SECURITY,
    guards=STAFF_GUARDS,
    dependencies=STAFF_DEPENDENCIES,
    status_code=200,
    responses={
        **success(200, DecisionResult, "Decided", example("approved", DECISION_EXAMPLE)),
        **problems(400, 401, 403, 404, 409, 422, codes={403: "own_application", 409: "not_pending_review"}),
    },
)
async def staff_decide(
    *,
    staff: CurrentStaff,
    conn: Conn,
    runtime: RuntimeDep,
    request: Request[object, object, State],
    application_id: FromPath[UUID],
    data: Annotated[DecisionCreate, Body(examples=example("approve", DECISION_REQUEST))],
) -> Response[DecisionResult]:
    outcome = await service.decide(
        conn,
        staff,
        application_id,
        data,
        now=runtime.clock.now(),
        cipher=runtime.cipher,
        fund_centre=runtime.fund_centre,
    )
    if isinstance(outcome, AppError):  # returned so the refusal's audit row commits
        return cast("Response[DecisionResult]", _problem(request, outcome))
    return Response(outcome, status_code=200)


router = Router(
    path="/v1/staff",
    route_handlers=[staff_login, staff_queue, staff_get_application, staff_decide],
)
